//! Cross-check of the TOTP module against an independent implementation,
//! Python's `pyotp`.
//!
//! The interpreter is `$AUTH_PYTHON` if set, else `python3`. When it cannot
//! `import pyotp` the test prints why and passes without checking, so CI
//! without pyotp stays green. To run it for real:
//!
//! ```text
//! python3 -m venv /tmp/auth-venv && /tmp/auth-venv/bin/pip install pyotp
//! AUTH_PYTHON=/tmp/auth-venv/bin/python3 cargo test -p auth --test pyotp -- --nocapture
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use auth::totp::{self, Secret};

fn python() -> String {
    std::env::var("AUTH_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Runs `script` with `args`; `None` (after printing the reason) when pyotp is unavailable.
fn run_python(script: &str, args: &[String]) -> Option<String> {
    let py = python();
    let probe = Command::new(&py).args(["-c", "import pyotp"]).output();
    match probe {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            eprintln!(
                "SKIPPED pyotp cross-check: `{py} -c \"import pyotp\"` failed: {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
            );
            return None;
        }
        Err(e) => {
            eprintln!("SKIPPED pyotp cross-check: cannot run `{py}`: {e}");
            return None;
        }
    }
    let out = Command::new(&py)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

#[test]
fn codes_match_pyotp() {
    let mut times: Vec<i64> = vec![0, 29, 30, 59, 1_111_111_109, 1_234_567_890, 2_000_000_000];
    times.extend((0..200).map(|i| 1_700_000_000 + i * 7_919));
    let secrets = [Secret::generate(), Secret::generate(), Secret::generate()];
    let mut compared = 0;
    for secret in &secrets {
        let mut args = vec![secret.to_base32()];
        args.extend(times.iter().map(i64::to_string));
        let script = "import sys, pyotp\n\
                      t = pyotp.TOTP(sys.argv[1])\n\
                      for s in sys.argv[2:]:\n    print(t.at(int(s)))\n";
        let Some(stdout) = run_python(script, &args) else {
            return;
        };
        let theirs: Vec<&str> = stdout.lines().collect();
        assert_eq!(theirs.len(), times.len());
        for (t, their) in times.iter().zip(theirs) {
            let ours = totp::code_at(secret, *t);
            assert_eq!(ours, their, "t = {t}, secret {}", secret.to_base32());
            assert_eq!(
                totp::verify(secret, their, *t, None),
                Some(totp::step_at(*t))
            );
            compared += 1;
        }
    }
    println!("pyotp cross-check ran: {compared} codes identical");
}

#[test]
fn otpauth_uri_parses_in_pyotp() {
    let secret = Secret::generate();
    let account = "zhang.san@卫东 窗口3";
    let issuer = "卫东区政务服务";
    let uri = totp::otpauth_uri(&secret, account, issuer);
    let script = "import sys, pyotp\n\
                  t = pyotp.parse_uri(sys.argv[1])\n\
                  print(t.name); print(t.issuer); print(t.secret)\n\
                  print(t.digits); print(t.interval); print(t.digest().name)\n\
                  print(t.at(1700000000))\n";
    let Some(stdout) = run_python(script, std::slice::from_ref(&uri)) else {
        return;
    };
    let lines: Vec<&str> = stdout.lines().collect();
    let code = totp::code_at(&secret, 1_700_000_000);
    let b32 = secret.to_base32();
    assert_eq!(
        lines,
        [
            account,
            issuer,
            b32.as_str(),
            "6",
            "30",
            "sha1",
            code.as_str()
        ],
        "{uri}"
    );
    println!("pyotp parsed {uri}");
}
