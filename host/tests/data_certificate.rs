//! `ic0.data_certificate_*`: a query sees the certificate the host was given; every other
//! execution sees none (present is 0, size and copy trap), as the interface specification says.

use candid::Principal;
use ic0_host::Host;

/// Replies with `data_certificate_present` as one byte, then (if present) the certificate,
/// read through size and copy. `query_size` calls size without checking present first.
const MODULE: &str = r#"
(module
  (import "ic0" "data_certificate_present" (func $present (result i32)))
  (import "ic0" "data_certificate_size" (func $size (result i32)))
  (import "ic0" "data_certificate_copy" (func $copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (memory 1)
  (func $answer
    (i32.store8 (i32.const 0) (call $present))
    (call $append (i32.const 0) (i32.const 1))
    (if (call $present)
      (then
        (call $copy (i32.const 16) (i32.const 0) (call $size))
        (call $append (i32.const 16) (call $size))))
    (call $reply))
  (func $size_only
    (drop (call $size))
    (call $reply))
  (func $copy_past_end
    (call $copy (i32.const 16) (i32.const 1) (call $size))
    (call $reply))
  (export "canister_query get" (func $answer))
  (export "canister_update get_update" (func $answer))
  (export "canister_query size" (func $size_only))
  (export "canister_update size_update" (func $size_only))
  (export "canister_query copy_past_end" (func $copy_past_end)))
"#;

fn host() -> Host {
    let wasm = wat::parse_str(MODULE).expect("the test module assembles");
    let mut host = Host::new();
    host.install(&wasm, &[]).expect("install");
    host
}

fn user() -> Principal {
    Principal::anonymous()
}

#[test]
fn without_a_certificate_queries_see_none() {
    let mut host = host();
    assert_eq!(host.query(user(), "get", &[]).unwrap(), vec![0]);
    let trap = host.query(user(), "size", &[]).unwrap_err();
    assert!(
        trap.message.contains("no data certificate"),
        "{}",
        trap.message
    );
}

#[test]
fn a_query_reads_the_certificate_it_was_given() {
    let mut host = host();
    let certificate = b"a certificate, as CBOR would be".to_vec();
    host.set_data_certificate(Some(certificate.clone()));
    let reply = host.query(user(), "get", &[]).unwrap();
    assert_eq!(reply[0], 1);
    assert_eq!(&reply[1..], certificate.as_slice());
    // A copy past the certificate's end traps rather than reading beyond it.
    let trap = host.query(user(), "copy_past_end", &[]).unwrap_err();
    assert!(trap.message.contains("out of bounds"), "{}", trap.message);
    // Taken away again, it is gone.
    host.set_data_certificate(None);
    assert_eq!(host.query(user(), "get", &[]).unwrap(), vec![0]);
}

#[test]
fn updates_never_see_a_certificate() {
    let mut host = host();
    host.set_data_certificate(Some(vec![1, 2, 3]));
    assert_eq!(host.update(user(), "get_update", &[]).unwrap(), vec![0]);
    let trap = host.update(user(), "size_update", &[]).unwrap_err();
    assert!(
        trap.message.contains("no data certificate"),
        "{}",
        trap.message
    );
}
