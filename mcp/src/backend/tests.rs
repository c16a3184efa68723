use super::*;

/// RFC 8410's example Ed25519 private key.
const ED25519_PEM: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC
-----END PRIVATE KEY-----
";

/// A SEC1 secp256k1 key as `dfx identity new` writes it (generated for this test).
const SECP256K1_PEM: &str = "-----BEGIN EC PRIVATE KEY-----
MHQCAQEEIIRNlIcJ2lx11ryCqzMIO3OgLdjSesIRRoO8RJqOQqSZoAcGBSuBBAAK
oUQDQgAEqQuIR6Erc+9v5Z2NBEaDxi8hpkYH+v0XuPyAoAUuX+xjI+b3k3cbXe+s
DLCRysBYOyckMwH9BiilrNBiEka/ZA==
-----END EC PRIVATE KEY-----
";

#[test]
fn identities_load_from_dfx_pem_files() {
    for pem in [ED25519_PEM, SECP256K1_PEM] {
        let identity = identity_from_pem(pem.as_bytes()).unwrap();
        let principal = identity.sender().unwrap();
        assert_ne!(principal, Principal::anonymous());
        // Self-authenticating: the public key's hash, then 0x02.
        assert_eq!(principal.as_slice().last(), Some(&2), "{principal}");
    }
    let err = identity_from_pem(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
        .err()
        .unwrap();
    assert!(err.starts_with("neither a Secp256k1"), "{err}");
}

#[test]
fn only_plain_http_fetches_the_root_key() {
    assert!(needs_root_key("http://127.0.0.1:4943"));
    assert!(needs_root_key("HTTP://localhost:8080"));
    assert!(!needs_root_key("https://icp-api.io"));
}

#[tokio::test]
async fn an_agent_needs_a_valid_canister_id_and_identity() {
    let err = Backend::agent("https://icp-api.io", "not a principal", None)
        .await
        .err()
        .unwrap();
    assert!(err.starts_with("--canister 'not a principal'"), "{err}");
    // https: no root key to fetch, so building it needs no network.
    let backend = Backend::agent("https://icp-api.io", "aaaaa-aa", None).await;
    assert!(matches!(backend, Ok(Backend::Agent { .. })));
    let missing = Path::new("/nonexistent/identity.pem");
    let err = Backend::agent("https://icp-api.io", "aaaaa-aa", Some(missing))
        .await
        .err()
        .unwrap();
    assert!(err.starts_with("/nonexistent/identity.pem:"), "{err}");
}

#[test]
fn a_local_backend_needs_a_canister() {
    let dir = std::env::temp_dir().join("mkt-mcp-no-canister-here");
    let err = Backend::local(dir, "controller".into()).err().unwrap();
    assert!(err.starts_with("no canister in"), "{err}");
}
