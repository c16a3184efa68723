//! Candid values as JSON, for scripts:
//! - null, reserved and an absent `opt` → `null`; a present `opt v` → `v`;
//! - numbers → JSON numbers when they are exact in an IEEE double (|n| ≤ 2^53), otherwise
//!   decimal strings (nanosecond timestamps, cycle balances);
//! - text and principals → strings; blobs → lowercase hex strings;
//! - vectors and tuples → arrays; records → objects keyed by field name (`_123_` for numeric ids);
//! - variants → `{"Tag": value}` (`{"Tag": null}` for a tag without a value).
//!
//! A reply of one value prints as that value, any other number of values as an array.

use candid::types::value::{IDLArgs, IDLValue};
use candid::types::Label;
use serde_json::{Map, Number, Value};

const MAX_SAFE: u128 = 1 << 53;

pub fn args(args: &IDLArgs) -> Value {
    match args.args.as_slice() {
        [one] => value(one),
        many => Value::Array(many.iter().map(value).collect()),
    }
}

pub fn value(v: &IDLValue) -> Value {
    use IDLValue::*;
    match v {
        Null | None | Reserved => Value::Null,
        Bool(b) => Value::Bool(*b),
        Text(s) => Value::String(s.clone()),
        Number(n) => integer_text(n.clone()),
        Nat(n) => integer_text(n.0.to_string()),
        Int(n) => integer_text(n.0.to_string()),
        Nat8(n) => (*n).into(),
        Nat16(n) => (*n).into(),
        Nat32(n) => (*n).into(),
        Int8(n) => (*n).into(),
        Int16(n) => (*n).into(),
        Int32(n) => (*n).into(),
        Nat64(n) => integer_text(n.to_string()),
        Int64(n) => integer_text(n.to_string()),
        Float32(f) => float(f64::from(*f)),
        Float64(f) => float(*f),
        Opt(inner) => value(inner),
        Vec(vs) => Value::Array(vs.iter().map(value).collect()),
        Blob(bytes) => Value::String(hex::encode(bytes)),
        Record(fields) => {
            let tuple = !fields.is_empty()
                && fields
                    .iter()
                    .enumerate()
                    .all(|(i, f)| f.id.get_id() == i as u32);
            if tuple {
                Value::Array(fields.iter().map(|f| value(&f.val)).collect())
            } else {
                Value::Object(fields.iter().map(|f| (key(&f.id), value(&f.val))).collect())
            }
        }
        Variant(v) => {
            let mut map = Map::new();
            map.insert(key(&v.0.id), value(&v.0.val));
            Value::Object(map)
        }
        Principal(p) | Service(p) => Value::String(p.to_text()),
        Func(p, method) => serde_json::json!({ "principal": p.to_text(), "method": method }),
    }
}

fn key(label: &Label) -> String {
    match label {
        Label::Named(name) => name.clone(),
        Label::Id(n) | Label::Unnamed(n) => format!("_{n}_"),
    }
}

/// A decimal integer as a JSON number when a double holds it exactly, else as a string.
fn integer_text(text: String) -> Value {
    let digits = text.trim_start_matches('-').replace('_', "");
    match digits.parse::<u128>() {
        Ok(magnitude) if magnitude <= MAX_SAFE => {
            let n = magnitude as i64;
            Value::Number(if text.starts_with('-') {
                Number::from(-n)
            } else {
                Number::from(n)
            })
        }
        _ => Value::String(text.replace('_', "")),
    }
}

fn float(f: f64) -> Value {
    Number::from_f64(f).map_or_else(|| Value::String(f.to_string()), Value::Number)
}
