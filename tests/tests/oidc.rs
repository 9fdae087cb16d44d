//! The unified-identity login (统一身份认证) end to end: the real backend
//! binary as an OpenID Connect relying party against a real, certified
//! provider (panva's `oidc-provider`, tests/oidc/provider.mjs) on loopback.
//! Resident 张伟 logs in at the provider, comes back with a code, and the
//! backend opens a session on his demo account (his number is bound to it);
//! then a replayed callback, a replayed code, a tampered state, a callback
//! without the browser's binding cookie and a provider that went away each
//! end on the error page.
//!
//! Skipped (with the reason printed) when Node.js or the provider's
//! packages (`npm ci` in tests/oidc, which `cargo xtask test` runs) are
//! missing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Client, StatusCode, Url};
use serde_json::Value;
use workspace_tests::{Proc, binary, workspace_root};

const CLIENT_ID: &str = "weidong-portal";
const CLIENT_SECRET: &str = "weidong-demo-secret";

/// Why the test cannot run here, if it cannot.
fn skip_reason() -> Option<String> {
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Some("node is not installed".to_owned());
    }
    let pkg = workspace_root().join("tests/oidc/node_modules/oidc-provider");
    if !pkg.exists() {
        return Some(format!(
            "{} is missing (run `npm ci` in tests/oidc, or `cargo xtask test`)",
            pkg.display()
        ));
    }
    None
}

/// Cookies of one site, carried by hand (the client keeps none).
#[derive(Debug, Default, Clone)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    fn take(&mut self, resp: &reqwest::Response) {
        for v in resp.headers().get_all(SET_COOKIE) {
            let v = v.to_str().unwrap();
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (name, value) = pair.split_once('=').unwrap();
            let attrs = attrs.to_ascii_lowercase();
            let gone = value.is_empty()
                || attrs.contains("max-age=0")
                || attrs.contains("expires=thu, 01 jan 1970");
            if gone {
                self.0.remove(name.trim());
            } else {
                self.0.insert(name.trim().to_owned(), value.to_owned());
            }
        }
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// One answer: status, `Location` (absolute) and body.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

async fn send(req: reqwest::RequestBuilder, jar: &mut Jar, base: &Url) -> Answer {
    let req = if jar.0.is_empty() {
        req
    } else {
        req.header(COOKIE, jar.header())
    };
    let resp = req.send().await.unwrap();
    jar.take(&resp);
    let status = resp.status();
    let location = resp
        .headers()
        .get(LOCATION)
        .map(|l| base.join(l.to_str().unwrap()).unwrap().to_string());
    let body = resp.text().await.unwrap();
    Answer {
        status,
        location,
        body,
    }
}

async fn get(http: &Client, url: &str, jar: &mut Jar) -> Answer {
    let base = Url::parse(url).unwrap();
    send(http.get(url), jar, &base).await
}

async fn post_form(http: &Client, url: &str, body: &str, jar: &mut Jar) -> Answer {
    let base = Url::parse(url).unwrap();
    let req = http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    send(req, jar, &base).await
}

/// The value of `name` in the query of `url`.
fn query_param(url: &str, name: &str) -> Option<String> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `url` with the query parameter `name` set to `value`.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut u = Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == name {
                value.to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    u.query_pairs_mut().clear().extend_pairs(pairs);
    u.to_string()
}

/// The `action` of the provider's interaction form.
fn form_action(html: &str) -> String {
    let start = html.find("action=\"").expect("a form") + "action=\"".len();
    let end = html[start..].find('"').unwrap();
    html[start..start + end].replace("&amp;", "&")
}

/// Follows the provider from the authorization URL through its login and
/// consent pages (as 张伟) until it sends the browser back to `callback`;
/// returns that URL.
async fn through_provider(http: &Client, authorize: &str, callback: &str, jar: &mut Jar) -> String {
    let mut url = authorize.to_owned();
    for _ in 0..16 {
        if url.starts_with(callback) {
            return url;
        }
        let a = get(http, &url, jar).await;
        url = match a.status {
            s if s.is_redirection() => a.location.expect("a redirect has a Location"),
            StatusCode::OK => {
                let form = if a.body.contains("name=\"prompt\" value=\"login\"") {
                    "prompt=login&login=zhangwei&password=any-password"
                } else if a.body.contains("name=\"prompt\" value=\"consent\"") {
                    "prompt=consent"
                } else {
                    panic!("unexpected provider page: {}", a.body);
                };
                let action = form_action(&a.body);
                let p = post_form(http, &action, form, jar).await;
                assert!(p.status.is_redirection(), "{:?}", p);
                p.location.unwrap()
            }
            s => panic!("provider answered {s}: {}", a.body),
        };
    }
    panic!("the provider never sent the browser back");
}

/// Starts a login at the backend: the authorization URL, with the
/// backend's binding cookie now in `jar`.
async fn begin(http: &Client, backend: &str, issuer: &str, next: &str, jar: &mut Jar) -> String {
    let a = get(http, &format!("{backend}/login/oidc?next={next}"), jar).await;
    assert_eq!(a.status, StatusCode::FOUND, "{}", a.body);
    let to = a.location.unwrap();
    assert!(to.starts_with(&format!("{issuer}/auth?")), "{to}");
    assert_eq!(
        query_param(&to, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(jar.get("wd_oidc").is_some(), "the binding cookie is set");
    to
}

fn assert_error_page(a: &Answer, status: StatusCode, code: &str) {
    assert_eq!(a.status, status, "{}", a.body);
    assert!(
        a.body.contains(&format!("data-code=\"{code}\"")),
        "{code}: {}",
        a.body
    );
    assert!(a.body.contains("href=\"/login\""), "a way back to /login");
    assert!(a.body.contains("统一身份认证登录未完成"));
    assert!(a.body.contains("Login with the unified identity failed"));
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A provider and a backend that trusts it, on loopback.
struct Setup {
    provider: Proc,
    server: Proc,
    dir: std::path::PathBuf,
    backend: String,
    callback: String,
    issuer: String,
    http: Client,
}

impl Drop for Setup {
    fn drop(&mut self) {
        self.server.terminate(Duration::from_secs(5));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts the provider (its client authenticating with `auth_method` at the
/// token endpoint), then the backend configured for it.
fn setup(auth_method: &str) -> Setup {
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("oidc-e2e-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let backend = format!("http://127.0.0.1:{port}");
    let callback = format!("{backend}/login/oidc/callback");

    // The provider first: it must know the callback; the backend then
    // learns the provider's issuer from its first line.
    let mut provider = Proc::start(
        "oidc-provider",
        Command::new("node")
            .arg("provider.mjs")
            .current_dir(workspace_root().join("tests/oidc"))
            .env("OIDC_REDIRECT_URI", &callback)
            .env("OIDC_CLIENT_ID", CLIENT_ID)
            .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
            .env("OIDC_AUTH_METHOD", auth_method),
    )
    .unwrap();
    let issuer = provider
        .wait_for(Duration::from_secs(30), |l| {
            l.split_once("oidc-provider listening on ")
                .map(|(_, u)| u.trim().to_owned())
        })
        .unwrap();

    let config = dir.join("backend.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{port}\"\nsecure_cookies = false\n\n[oidc]\n\
             issuer = \"{issuer}\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"{CLIENT_SECRET}\"\n\
             redirect_uri = \"{callback}\"\nscopes = [\"openid\", \"profile\", \"id_card\"]\n\
             token_auth = \"{auth_method}\"\n"
        ),
    )
    .unwrap();
    let mut server = Proc::start(
        "backend",
        Command::new(binary("backend").unwrap())
            .args(["serve", "--config"])
            .arg(&config)
            .arg("--db")
            .arg(dir.join("backend.db")),
    )
    .unwrap();
    server
        .wait_for(Duration::from_secs(60), |l| {
            l.contains("listening on").then_some(())
        })
        .unwrap();
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    Setup {
        provider,
        server,
        dir,
        backend,
        callback,
        issuer,
        http,
    }
}

/// The whole login of 张伟 into `next`; answers his session token.
async fn log_in(t: &Setup, at_provider: &mut Jar) -> String {
    let mut browser = Jar::default();
    let authorize = begin(&t.http, &t.backend, &t.issuer, "/my/cases", &mut browser).await;
    let back = through_provider(&t.http, &authorize, &t.callback, at_provider).await;
    assert_eq!(
        query_param(&back, "iss").as_deref(),
        Some(t.issuer.as_str())
    );
    let done = get(&t.http, &back, &mut browser).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("url=/my/cases"), "{}", done.body);
    assert!(
        browser.get("wd_oidc").is_none(),
        "the binding cookie is cleared"
    );
    browser
        .get("wd_session")
        .expect("a session cookie")
        .to_owned()
}

/// 张伟's session sees his demo account and its cases.
async fn assert_is_zhang(t: &Setup, session: &str) {
    let mut as_zhang = Jar::default();
    as_zhang
        .0
        .insert("wd_session".to_owned(), session.to_owned());
    let me = get(
        &t.http,
        &format!("{}/api/v1/auth/me", t.backend),
        &mut as_zhang,
    )
    .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    let me: Value = serde_json::from_str(&me.body).unwrap();
    assert_eq!(me["kind"], "account");
    assert_eq!(me["name"], "张*");
    assert_eq!(me["real_name_bound"], true);
    let cases = get(
        &t.http,
        &format!("{}/api/v1/my/cases", t.backend),
        &mut as_zhang,
    )
    .await;
    assert_eq!(cases.status, StatusCode::OK, "{}", cases.body);
    let cases: Value = serde_json::from_str(&cases.body).unwrap();
    let names: Vec<&str> = cases["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["matter_name"].as_str())
        .collect();
    assert!(names.contains(&"无犯罪记录证明"), "{names:?}");
    assert!(names.contains(&"公共租赁住房申请"), "{names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_secret_can_go_in_the_token_request_body() {
    if let Some(why) = skip_reason() {
        eprintln!("SKIP oidc: {why}");
        return;
    }
    let t = setup("client_secret_post");
    let session = log_in(&t, &mut Jar::default()).await;
    assert_is_zhang(&t, &session).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zhang_wei_logs_in_with_the_unified_identity() {
    if let Some(why) = skip_reason() {
        eprintln!("SKIP oidc: {why}");
        return;
    }
    let mut t = setup("client_secret_basic");
    let (http, backend, issuer, callback) = (
        t.http.clone(),
        t.backend.clone(),
        t.issuer.clone(),
        t.callback.clone(),
    );
    let mut at_provider = Jar::default();

    // 1. The whole login, through the provider's login and consent pages.
    let mut browser = Jar::default();
    let authorize = begin(&http, &backend, &issuer, "/my/cases", &mut browser).await;
    let back = through_provider(&http, &authorize, &callback, &mut at_provider).await;
    let done = get(&http, &back, &mut browser).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("url=/my/cases"), "{}", done.body);
    let session = browser
        .get("wd_session")
        .expect("a session cookie")
        .to_owned();
    assert_is_zhang(&t, &session).await;

    // 2. The same callback again: its state was used.
    let again = get(&http, &back, &mut browser.clone()).await;
    assert_error_page(&again, StatusCode::BAD_REQUEST, "OIDC_BAD_STATE");

    // 3. The used code under a fresh, valid state: the provider refuses it.
    let mut second = Jar::default();
    let fresh = begin(&http, &backend, &issuer, "/", &mut second).await;
    let replay = with_param(&back, "state", &query_param(&fresh, "state").unwrap());
    let replayed = get(&http, &replay, &mut second).await;
    assert_error_page(&replayed, StatusCode::BAD_REQUEST, "OIDC_CODE_REJECTED");

    // 4. A tampered state; then the real one from another browser.
    let mut third = Jar::default();
    let authorize = begin(&http, &backend, &issuer, "/my/cases", &mut third).await;
    let back = through_provider(&http, &authorize, &callback, &mut at_provider).await;
    let state = query_param(&back, "state").unwrap();
    let tampered = with_param(&back, "state", &format!("{state}x"));
    let a = get(&http, &tampered, &mut third.clone()).await;
    assert_error_page(&a, StatusCode::BAD_REQUEST, "OIDC_BAD_STATE");
    let a = get(&http, &back, &mut Jar::default()).await;
    assert_error_page(&a, StatusCode::BAD_REQUEST, "OIDC_BAD_STATE");

    // 5. The provider goes away between the start and the callback.
    let mut fourth = Jar::default();
    let authorize = begin(&http, &backend, &issuer, "/", &mut fourth).await;
    assert!(t.provider.terminate(Duration::from_secs(5)));
    let state = query_param(&authorize, "state").unwrap();
    let a = get(
        &http,
        &format!("{callback}?code=abc&state={state}"),
        &mut fourth,
    )
    .await;
    assert_error_page(&a, StatusCode::BAD_GATEWAY, "OIDC_PROVIDER_UNAVAILABLE");
}
