use super::*;

fn ledger() -> Principal {
    Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 2, 1, 1])
}

#[test]
fn the_ledger_is_named_in_an_absent_argument() {
    let text = name_in_init(None, ledger()).unwrap();
    let args = candid_parser::parse_idl_args(&text).unwrap();
    let expected = format!("(opt record {{ ledger = opt principal \"{}\" }})", ledger());
    assert_eq!(args, candid_parser::parse_idl_args(&expected).unwrap());
}

#[test]
fn the_ledger_joins_the_fields_given() {
    let text = name_in_init(Some("(opt record { max_items = opt 5 })"), ledger()).unwrap();
    assert!(text.contains("max_items"), "{text}");
    assert!(text.contains(&ledger().to_text()), "{text}");
}

#[test]
fn an_argument_naming_its_own_ledger_or_of_another_shape_is_refused() {
    let own = format!("(opt record {{ ledger = opt principal \"{}\" }})", ledger());
    assert!(name_in_init(Some(&own), ledger()).is_err());
    assert!(name_in_init(Some("(5)"), ledger()).is_err());
    assert!(name_in_init(Some("(opt 5)"), ledger()).is_err());
    assert!(name_in_init(Some("(opt record {"), ledger()).is_err());
}
