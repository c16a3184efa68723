//! Candid text output, laid out to a width. Like candid's own printer, but vectors of any length
//! are laid out element by element (candid prints vectors over 10 elements on one line).

use candid::pretty::candid::pp_label_raw;
use candid::pretty::utils::{concat, enclose, enclose_space, kwd};
use candid::types::value::{IDLArgs, IDLField, IDLValue};
use pretty::RcDoc;

const WIDTH: usize = 80;

pub fn args(args: &IDLArgs) -> String {
    let docs = args.args.iter().map(value);
    enclose("(", concat(docs, ","), ")")
        .pretty(WIDTH)
        .to_string()
}

fn value(v: &IDLValue) -> RcDoc<'_> {
    use IDLValue::*;
    match v {
        Opt(inner) if annotated(inner) => kwd("opt").append(enclose("(", value(inner), ")")),
        Opt(inner) => kwd("opt").append(value(inner)),
        // Blobs (and vectors of bytes) print as `blob "..."`.
        Vec(vs) if matches!(vs.first(), Some(Nat8(_))) => RcDoc::as_string(format!("{v:?}")),
        Vec(vs) => kwd("vec").append(enclose_space("{", concat(vs.iter().map(value), ";"), "}")),
        Record(fields) if is_tuple(fields) => kwd("record").append(enclose_space(
            "{",
            concat(fields.iter().map(|f| value(&f.val)), ";"),
            "}",
        )),
        Record(fields) => kwd("record").append(enclose_space(
            "{",
            concat(fields.iter().map(|f| field(f, false)), ";"),
            "}",
        )),
        Variant(v) => kwd("variant").append(enclose_space("{", field(&v.0, true), "}")),
        // Scalars, text, principals, blobs: candid's own one-line form (`1_000 : nat64`, `"x"`).
        _ => RcDoc::as_string(format!("{v:?}")),
    }
}

fn field(f: &IDLField, in_variant: bool) -> RcDoc<'_> {
    let val = if in_variant && f.val == IDLValue::Null {
        RcDoc::nil()
    } else {
        kwd(" =").append(value(&f.val))
    };
    pp_label_raw(&f.id).append(val)
}

fn is_tuple(fields: &[IDLField]) -> bool {
    !fields.is_empty()
        && fields
            .iter()
            .enumerate()
            .all(|(i, f)| f.id.get_id() == i as u32)
}

/// Values whose text carries a type annotation (`1 : nat`) need parentheses after `opt`.
fn annotated(v: &IDLValue) -> bool {
    use IDLValue::*;
    matches!(
        v,
        Int(_)
            | Nat(_)
            | Nat8(_)
            | Nat16(_)
            | Nat32(_)
            | Nat64(_)
            | Int8(_)
            | Int16(_)
            | Int32(_)
            | Int64(_)
            | Float32(_)
            | Float64(_)
            | Null
            | Reserved
    )
}
