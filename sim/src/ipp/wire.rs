//! The IPP binary encoding (RFC 8010 section 3), written from the printer's
//! side: a parser for requests and an encoder for responses.
//!
//! ```text
//! version-number (2) · operation-id / status-code (2) · request-id (4)
//! { begin-attribute-group-tag (1)
//!   { value-tag (1) · name-length (2) · name · value-length (2) · value }* }*
//! end-of-attributes-tag (1) · data
//! ```
//!
//! An attribute with more values repeats with name-length 0. A collection
//! (`begCollection` 0x34) holds `memberAttrName` (0x4A) entries, each
//! followed by its value(s), and ends with `endCollection` (0x37).

use std::fmt;

/// Delimiter tags (RFC 8010 3.5.1).
pub mod tag {
    pub const OPERATION: u8 = 0x01;
    pub const JOB: u8 = 0x02;
    pub const END: u8 = 0x03;
    pub const PRINTER: u8 = 0x04;
    pub const UNSUPPORTED: u8 = 0x05;

    pub const UNSUPPORTED_VALUE: u8 = 0x10;
    pub const UNKNOWN: u8 = 0x12;
    pub const NO_VALUE: u8 = 0x13;
    pub const INTEGER: u8 = 0x21;
    pub const BOOLEAN: u8 = 0x22;
    pub const ENUM: u8 = 0x23;
    pub const OCTET_STRING: u8 = 0x30;
    pub const DATE_TIME: u8 = 0x31;
    pub const RESOLUTION: u8 = 0x32;
    pub const RANGE: u8 = 0x33;
    pub const BEG_COLLECTION: u8 = 0x34;
    pub const TEXT_WITH_LANGUAGE: u8 = 0x35;
    pub const NAME_WITH_LANGUAGE: u8 = 0x36;
    pub const END_COLLECTION: u8 = 0x37;
    pub const TEXT: u8 = 0x41;
    pub const NAME: u8 = 0x42;
    pub const KEYWORD: u8 = 0x44;
    pub const URI: u8 = 0x45;
    pub const URI_SCHEME: u8 = 0x46;
    pub const CHARSET: u8 = 0x47;
    pub const LANGUAGE: u8 = 0x48;
    pub const MIME: u8 = 0x49;
    pub const MEMBER_NAME: u8 = 0x4A;
    pub const EXTENSION: u8 = 0x7F;
}

/// One attribute value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Integer(i32),
    Boolean(bool),
    Enum(i32),
    /// Any character-string syntax: text, name, keyword, uri, charset,
    /// naturalLanguage, mimeMediaType (the tag says which).
    Str(u8, String),
    /// textWithLanguage / nameWithLanguage.
    WithLanguage(u8, String, String),
    Range(i32, i32),
    Resolution(i32, i32, u8),
    Collection(Vec<(String, Vec<Value>)>),
    /// Out-of-band values (`unsupported`, `unknown`, `no-value`).
    OutOfBand(u8),
    /// octetString, dateTime and anything else, kept as bytes.
    Bytes(u8, Vec<u8>),
}

impl Value {
    pub fn keyword(s: &str) -> Value {
        Value::Str(tag::KEYWORD, s.to_string())
    }
    pub fn text(s: &str) -> Value {
        Value::Str(tag::TEXT, s.to_string())
    }
    pub fn name(s: &str) -> Value {
        Value::Str(tag::NAME, s.to_string())
    }
    pub fn uri(s: &str) -> Value {
        Value::Str(tag::URI, s.to_string())
    }
    pub fn mime(s: &str) -> Value {
        Value::Str(tag::MIME, s.to_string())
    }

    /// The string of a character-string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(_, s) | Value::WithLanguage(_, _, s) => Some(s),
            _ => None,
        }
    }

    /// The number of an integer or enum value.
    pub fn as_int(&self) -> Option<i32> {
        match self {
            Value::Integer(i) | Value::Enum(i) => Some(*i),
            _ => None,
        }
    }

    fn tag(&self) -> u8 {
        match self {
            Value::Integer(_) => tag::INTEGER,
            Value::Boolean(_) => tag::BOOLEAN,
            Value::Enum(_) => tag::ENUM,
            Value::Str(t, _) | Value::WithLanguage(t, _, _) | Value::Bytes(t, _) => *t,
            Value::Range(..) => tag::RANGE,
            Value::Resolution(..) => tag::RESOLUTION,
            Value::Collection(_) => tag::BEG_COLLECTION,
            Value::OutOfBand(t) => *t,
        }
    }
}

/// One attribute: a name and one or more values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    pub name: String,
    pub values: Vec<Value>,
}

impl Attr {
    pub fn new(name: &str, value: Value) -> Attr {
        Attr {
            name: name.to_string(),
            values: vec![value],
        }
    }
    pub fn many(name: &str, values: Vec<Value>) -> Attr {
        Attr {
            name: name.to_string(),
            values,
        }
    }
}

/// One attribute group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub tag: u8,
    pub attrs: Vec<Attr>,
}

impl Group {
    pub fn new(tag: u8) -> Group {
        Group {
            tag,
            attrs: Vec::new(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }

    pub fn push(&mut self, attr: Attr) {
        self.attrs.push(attr);
    }
}

/// A request or response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub version: (u8, u8),
    /// operation-id in a request, status-code in a response.
    pub code: u16,
    pub request_id: u32,
    pub groups: Vec<Group>,
    /// The document data after the end tag.
    pub data: Vec<u8>,
}

impl Message {
    /// The first group with this tag.
    pub fn group(&self, tag: u8) -> Option<&Group> {
        self.groups.iter().find(|g| g.tag == tag)
    }

    /// An attribute of the first group with this tag.
    pub fn attr(&self, group: u8, name: &str) -> Option<&Attr> {
        self.group(group).and_then(|g| g.get(name))
    }
}

/// Why bytes are not an IPP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError(pub String);

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed IPP message: {}", self.0)
    }
}

impl std::error::Error for WireError {}

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.b.len())
            .ok_or_else(|| WireError(format!("truncated at byte {}", self.at)))?;
        let s = self.b.get(self.at..end).unwrap_or_default();
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?.first().copied().unwrap_or_default())
    }
    fn u16(&mut self) -> Result<u16, WireError> {
        let s = self.take(2)?;
        Ok(u16::from_be_bytes([
            s.first().copied().unwrap_or_default(),
            s.get(1).copied().unwrap_or_default(),
        ]))
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.at).copied()
    }
    fn rest(&self) -> &'a [u8] {
        self.b.get(self.at..).unwrap_or_default()
    }
}

fn be_i32(v: &[u8]) -> Result<i32, WireError> {
    let a: [u8; 4] = v
        .try_into()
        .map_err(|_| WireError(format!("integer of {} bytes", v.len())))?;
    Ok(i32::from_be_bytes(a))
}

fn utf8(v: &[u8]) -> Result<String, WireError> {
    String::from_utf8(v.to_vec()).map_err(|_| WireError("string is not UTF-8".into()))
}

fn decode_value(t: u8, v: &[u8]) -> Result<Value, WireError> {
    Ok(match t {
        tag::INTEGER => Value::Integer(be_i32(v)?),
        tag::ENUM => Value::Enum(be_i32(v)?),
        tag::BOOLEAN => match v {
            [0] => Value::Boolean(false),
            [1] => Value::Boolean(true),
            _ => return Err(WireError("boolean is not one byte 0 or 1".into())),
        },
        tag::RANGE => {
            if v.len() != 8 {
                return Err(WireError("rangeOfInteger is not 8 bytes".into()));
            }
            Value::Range(
                be_i32(v.get(..4).unwrap_or_default())?,
                be_i32(v.get(4..).unwrap_or_default())?,
            )
        }
        tag::RESOLUTION => {
            if v.len() != 9 {
                return Err(WireError("resolution is not 9 bytes".into()));
            }
            Value::Resolution(
                be_i32(v.get(..4).unwrap_or_default())?,
                be_i32(v.get(4..8).unwrap_or_default())?,
                v.get(8).copied().unwrap_or_default(),
            )
        }
        tag::TEXT_WITH_LANGUAGE | tag::NAME_WITH_LANGUAGE => {
            let mut c = Cursor { b: v, at: 0 };
            let ll = c.u16()? as usize;
            let lang = utf8(c.take(ll)?)?;
            let tl = c.u16()? as usize;
            let text = utf8(c.take(tl)?)?;
            Value::WithLanguage(t, lang, text)
        }
        0x10..=0x1F => Value::OutOfBand(t),
        0x40..=0x5F => Value::Str(t, utf8(v)?),
        _ => Value::Bytes(t, v.to_vec()),
    })
}

/// Reads one value tag, name and value; returns (tag, name, raw value).
fn raw_attr<'a>(c: &mut Cursor<'a>) -> Result<(u8, String, &'a [u8]), WireError> {
    let mut t = c.u8()?;
    if t == tag::EXTENSION {
        // RFC 8010 3.5.2: the real tag follows in the value; keep it opaque.
        t = tag::EXTENSION;
    }
    let nl = c.u16()? as usize;
    let name = utf8(c.take(nl)?)?;
    let vl = c.u16()? as usize;
    let v = c.take(vl)?;
    Ok((t, name, v))
}

/// Reads the members of a collection up to and including its end tag.
fn collection(c: &mut Cursor<'_>, depth: usize) -> Result<Value, WireError> {
    if depth > 8 {
        return Err(WireError("collections nested too deeply".into()));
    }
    let mut members: Vec<(String, Vec<Value>)> = Vec::new();
    loop {
        let (t, _name, v) = raw_attr(c)?;
        match t {
            tag::END_COLLECTION => return Ok(Value::Collection(members)),
            tag::MEMBER_NAME => members.push((utf8(v)?, Vec::new())),
            _ => {
                let value = if t == tag::BEG_COLLECTION {
                    collection(c, depth + 1)?
                } else {
                    decode_value(t, v)?
                };
                match members.last_mut() {
                    Some((_, vals)) => vals.push(value),
                    None => return Err(WireError("collection value before a member name".into())),
                }
            }
        }
    }
}

/// Parses a whole message; the bytes after the end tag are the data.
pub fn parse(bytes: &[u8]) -> Result<Message, WireError> {
    let mut c = Cursor { b: bytes, at: 0 };
    let major = c.u8()?;
    let minor = c.u8()?;
    let code = c.u16()?;
    let id = c.take(4)?;
    let request_id = u32::from_be_bytes(id.try_into().unwrap_or_default());
    let mut groups: Vec<Group> = Vec::new();
    loop {
        let Some(t) = c.peek() else {
            return Err(WireError("no end-of-attributes tag".into()));
        };
        if t == tag::END {
            c.at += 1;
            break;
        }
        if t < 0x10 {
            c.at += 1;
            groups.push(Group::new(t));
            continue;
        }
        let (t, name, v) = raw_attr(&mut c)?;
        let value = if t == tag::BEG_COLLECTION {
            collection(&mut c, 0)?
        } else {
            decode_value(t, v)?
        };
        let Some(group) = groups.last_mut() else {
            return Err(WireError("attribute before the first group tag".into()));
        };
        if name.is_empty() {
            match group.attrs.last_mut() {
                Some(a) => a.values.push(value),
                None => return Err(WireError("additional value without an attribute".into())),
            }
        } else {
            group.attrs.push(Attr {
                name,
                values: vec![value],
            });
        }
    }
    Ok(Message {
        version: (major, minor),
        code,
        request_id,
        groups,
        data: c.rest().to_vec(),
    })
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    let n = u16::try_from(s.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(s.get(..n as usize).unwrap_or_default());
}

fn value_bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::Integer(i) | Value::Enum(i) => i.to_be_bytes().to_vec(),
        Value::Boolean(b) => vec![u8::from(*b)],
        Value::Str(_, s) => s.as_bytes().to_vec(),
        Value::WithLanguage(_, l, s) => {
            let mut b = Vec::new();
            put_str(&mut b, l.as_bytes());
            put_str(&mut b, s.as_bytes());
            b
        }
        Value::Range(a, b) => [a.to_be_bytes(), b.to_be_bytes()].concat(),
        Value::Resolution(x, y, u) => {
            let mut b = [x.to_be_bytes(), y.to_be_bytes()].concat();
            b.push(*u);
            b
        }
        Value::Collection(_) | Value::OutOfBand(_) => Vec::new(),
        Value::Bytes(_, b) => b.clone(),
    }
}

fn put_value(out: &mut Vec<u8>, name: &str, v: &Value) {
    out.push(v.tag());
    put_str(out, name.as_bytes());
    put_str(out, &value_bytes(v));
    if let Value::Collection(members) = v {
        for (member, values) in members {
            out.push(tag::MEMBER_NAME);
            put_str(out, b"");
            put_str(out, member.as_bytes());
            for mv in values {
                put_value(out, "", mv);
            }
        }
        out.push(tag::END_COLLECTION);
        put_str(out, b"");
        put_str(out, b"");
    }
}

/// Encodes a message.
pub fn encode(m: &Message) -> Vec<u8> {
    let mut out = vec![m.version.0, m.version.1];
    out.extend_from_slice(&m.code.to_be_bytes());
    out.extend_from_slice(&m.request_id.to_be_bytes());
    for g in &m.groups {
        out.push(g.tag);
        for a in &g.attrs {
            for (i, v) in a.values.iter().enumerate() {
                put_value(&mut out, if i == 0 { &a.name } else { "" }, v);
            }
        }
    }
    out.push(tag::END);
    out.extend_from_slice(&m.data);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn a_hand_made_request_parses() {
        // Get-Printer-Attributes, request-id 7, as in RFC 8010 appendix A.
        let mut b = vec![0x01, 0x01, 0x00, 0x0B, 0, 0, 0, 7, 0x01];
        b.extend_from_slice(&[0x47, 0, 18]);
        b.extend_from_slice(b"attributes-charset");
        b.extend_from_slice(&[0, 5]);
        b.extend_from_slice(b"utf-8");
        b.extend_from_slice(&[0x44, 0, 20]);
        b.extend_from_slice(b"requested-attributes");
        b.extend_from_slice(&[0, 3]);
        b.extend_from_slice(b"all");
        b.extend_from_slice(&[0x44, 0, 0, 0, 4]);
        b.extend_from_slice(b"none");
        b.push(0x03);
        b.extend_from_slice(b"%PDF");
        let m = parse(&b).unwrap();
        assert_eq!((m.version, m.code, m.request_id), ((1, 1), 0x0B, 7));
        let ra = m.attr(tag::OPERATION, "requested-attributes").unwrap();
        assert_eq!(
            ra.values,
            vec![Value::keyword("all"), Value::keyword("none")]
        );
        assert_eq!(m.data, b"%PDF");
    }

    #[test]
    fn encode_then_parse_round_trips_collections_and_every_syntax() {
        let mut g = Group::new(tag::PRINTER);
        g.push(Attr::new("printer-state", Value::Enum(3)));
        g.push(Attr::many(
            "marker-levels",
            vec![Value::Integer(80), Value::Integer(-1)],
        ));
        g.push(Attr::new("ok", Value::Boolean(true)));
        g.push(Attr::new("r", Value::Range(1, 99)));
        g.push(Attr::new("res", Value::Resolution(600, 600, 3)));
        g.push(Attr::new(
            "t",
            Value::WithLanguage(tag::TEXT_WITH_LANGUAGE, "zh-cn".into(), "打印机".into()),
        ));
        g.push(Attr::new(
            "media-col-default",
            Value::Collection(vec![(
                "media-size".into(),
                vec![Value::Collection(vec![
                    ("x-dimension".into(), vec![Value::Integer(21000)]),
                    ("y-dimension".into(), vec![Value::Integer(29700)]),
                ])],
            )]),
        ));
        let m = Message {
            version: (2, 0),
            code: 0,
            request_id: 42,
            groups: vec![g],
            data: Vec::new(),
        };
        assert_eq!(parse(&encode(&m)).unwrap(), m);
    }

    #[test]
    fn truncated_and_garbage_input_is_an_error_not_a_panic() {
        let m = Message {
            version: (1, 1),
            code: 2,
            request_id: 1,
            groups: vec![{
                let mut g = Group::new(tag::OPERATION);
                g.push(Attr::new(
                    "attributes-charset",
                    Value::Str(tag::CHARSET, "utf-8".into()),
                ));
                g
            }],
            data: Vec::new(),
        };
        let b = encode(&m);
        for n in 0..b.len() {
            assert!(parse(&b[..n]).is_err(), "prefix of {n} bytes");
        }
        assert!(parse(&[0x01, 0x01, 0, 2, 0, 0, 0, 1, 0x47, 0, 1]).is_err());
        assert!(parse(b"GET / HTTP/1.1\r\n\r\n").is_err());
    }
}
