use super::*;
use crate::market::inventory::testing::{act_for, delegate, key_input, pem, OTHER_SECRET};
use crate::runtime::FakeRuntime;
use candid::Principal;

const SECRET: [u8; 32] = [7; 32];
const TOKEN: &str = "gAAAAAB-secret-token";

fn admin() -> Principal {
    Principal::from_slice(&[4; 29])
}

fn arg() -> IronicConfigureArg {
    IronicConfigureArg {
        provider: key_input(&SECRET),
        endpoint: None,
        microversion: None,
        auth_token: None,
        images: None,
    }
}

fn full() -> IronicConfigureArg {
    IronicConfigureArg {
        endpoint: Some("https://ironic.example:6385".into()),
        microversion: Some("1.78".into()),
        auth_token: Some(TOKEN.into()),
        images: Some(vec!["ubuntu-24.04".into()]),
        ..arg()
    }
}

fn provider() -> ProviderKey {
    crate::catalog::signing::provider_of(&SECRET)
}

#[test]
fn defaults_are_the_simulated_ironic_with_any_image() {
    let settings = get(&provider());
    assert_eq!(settings, Settings::default());
    assert_eq!(settings.microversion, DEFAULT_MICROVERSION);
    assert!(settings.allows_image("anything"));
    let view = view(&key_input(&SECRET)).unwrap();
    assert_eq!(
        view,
        IronicSettingsView {
            provider_pem: pem(&SECRET),
            backend: Backend::Simulated,
            credential_set: false,
            images: vec![],
            outcall_budget_cycles: 0,
        }
    );
    let rt = FakeRuntime::new();
    assert!(matches!(client(&rt, &provider()), AnyIronic::Sim(_)));
}

#[test]
fn delegates_and_controllers_configure_and_nothing_secret_is_shown() {
    let rt = FakeRuntime::new();
    act_for(&rt, &SECRET);
    let view = configure(&rt, full()).unwrap();
    assert_eq!(view.backend, Backend::Ironic);
    assert!(view.credential_set);
    assert_eq!(view.images, ["ubuntu-24.04"]);
    let shown = format!("{view:?} {:?}", get(&provider()));
    for secret in ["ironic.example", "1.78", TOKEN] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    let AnyIronic::Http(http) = client(&rt, &provider()) else {
        panic!("expected the HTTP backend");
    };
    assert_eq!(http.endpoint, "https://ironic.example:6385");
    assert_eq!(http.microversion, "1.78");
    assert_eq!(http.auth_token.as_deref(), Some(TOKEN));

    // Fields not given stay; "" goes back to the simulated Ironic and clears the token.
    let back = IronicConfigureArg {
        endpoint: Some(String::new()),
        auth_token: Some(String::new()),
        ..arg()
    };
    rt.controllers.borrow_mut().push(admin());
    rt.caller.set(admin());
    let view = configure(&rt, back).unwrap();
    assert_eq!(view.backend, Backend::Simulated);
    assert!(!view.credential_set);
    assert_eq!(view.images, ["ubuntu-24.04"]);
    assert_eq!(get(&provider()).microversion, "1.78");
    assert!(matches!(client(&rt, &provider()), AnyIronic::Sim(_)));
}

#[test]
fn strangers_other_providers_and_bad_values_are_refused_and_change_nothing() {
    let rt = FakeRuntime::new();
    act_for(&rt, &SECRET);
    configure(&rt, full()).unwrap();
    let before = get(&provider());
    for who in [Principal::anonymous(), Principal::from_slice(&[3; 29])] {
        rt.caller.set(who);
        assert!(matches!(
            configure(&rt, arg()),
            Err(ProvisionError::NotAuthorized { .. })
        ));
    }
    act_for(&rt, &OTHER_SECRET);
    assert_eq!(rt.caller.get(), delegate(&OTHER_SECRET));
    assert!(matches!(
        configure(&rt, full()),
        Err(ProvisionError::NotAuthorized { .. })
    ));
    act_for(&rt, &SECRET);
    let bad = [
        IronicConfigureArg {
            endpoint: Some("http://ironic.example".into()),
            ..full()
        },
        IronicConfigureArg {
            endpoint: Some("https://user:pw@ironic.example".into()),
            ..full()
        },
        IronicConfigureArg {
            microversion: Some("2.1".into()),
            ..full()
        },
        IronicConfigureArg {
            microversion: Some("1.".into()),
            ..full()
        },
        IronicConfigureArg {
            microversion: Some("1.1000".into()),
            ..full()
        },
        IronicConfigureArg {
            microversion: Some("1.8a".into()),
            ..full()
        },
        IronicConfigureArg {
            auth_token: Some("a".repeat(MAX_TOKEN_BYTES + 1)),
            ..full()
        },
        IronicConfigureArg {
            auth_token: Some("token\r\nX-Evil: 1".into()),
            ..full()
        },
        IronicConfigureArg {
            images: Some(vec!["i".into(); MAX_IMAGES + 1]),
            ..full()
        },
        IronicConfigureArg {
            images: Some(vec![String::new()]),
            ..full()
        },
        IronicConfigureArg {
            images: Some(vec!["i".repeat(MAX_IMAGE_BYTES + 1)]),
            ..full()
        },
        IronicConfigureArg {
            provider: ProviderKeyInput::Raw(vec![1; 31].into()),
            ..full()
        },
    ];
    for arg in bad {
        let result = configure(&rt, arg.clone());
        assert!(
            matches!(result, Err(ProvisionError::InvalidArgument { .. })),
            "{result:?}"
        );
        let message = format!("{result:?}");
        assert!(!message.contains("user:pw") && !message.contains("Evil"));
        assert_eq!(get(&provider()), before);
    }
    // The limits themselves are accepted.
    let edge = IronicConfigureArg {
        microversion: Some("1.999".into()),
        auth_token: Some("a".repeat(MAX_TOKEN_BYTES)),
        images: Some(vec!["i".repeat(MAX_IMAGE_BYTES); MAX_IMAGES]),
        ..full()
    };
    configure(&rt, edge).unwrap();
    assert!(matches!(
        view(&ProviderKeyInput::Pem("nope".into())),
        Err(ProvisionError::InvalidArgument { .. })
    ));
}

#[test]
fn scrub_removes_the_endpoint_and_the_token() {
    let settings = Settings {
        endpoint: Some("https://ironic.example:6385/base/".into()),
        auth_token: Some(TOKEN.into()),
        ..Settings::default()
    };
    let text = format!(
        "GET https://ironic.example:6385/base/v1/nodes failed: ironic.example refused {TOKEN}"
    );
    let clean = settings.scrub(&text);
    assert!(
        !clean.contains("ironic.example") && !clean.contains(TOKEN),
        "{clean}"
    );
    assert_eq!(Settings::default().scrub("as is"), "as is");
}

#[test]
fn scrub_removes_a_secret_a_text_was_cut_short_in_and_the_bare_path() {
    let settings = Settings {
        endpoint: Some("https://ironic.example:6385/base/".into()),
        auth_token: Some(TOKEN.into()),
        ..Settings::default()
    };
    let cut_token = &TOKEN[..TOKEN.len() - 3];
    for (text, clean) in [
        (
            format!("Ironic says: {cut_token}"),
            "Ironic says: [redacted]",
        ),
        (
            format!("Ironic says: {cut_token}…"),
            "Ironic says: [redacted]…",
        ),
        (
            "refused https://ironic.exam".to_string(),
            "refused [endpoint]",
        ),
        ("refused ironic.exa…".to_string(), "refused [endpoint]…"),
        (
            "no route /base/v1/nodes".to_string(),
            "no route [endpoint]/v1/nodes",
        ),
        ("no route /bas".to_string(), "no route [endpoint]"),
        // Shorter starts tell nothing: kept.
        ("it ends in gAA".to_string(), "it ends in gAA"),
        ("a full stop.".to_string(), "a full stop."),
    ] {
        assert_eq!(settings.scrub(&text), clean, "{text}");
    }
}

/// Settings as the version before outcall budgets stored them.
#[derive(candid::CandidType)]
struct SettingsV1 {
    endpoint: Option<String>,
    microversion: String,
    auth_token: Option<String>,
    images: Vec<String>,
}

#[test]
fn settings_stored_before_budgets_decode_with_no_budget() {
    use ic_stable_structures::Storable;
    let old = SettingsV1 {
        endpoint: Some("https://ironic.example:6385".into()),
        microversion: "1.78".into(),
        auth_token: Some("token".into()),
        images: vec!["ubuntu-24.04".into()],
    };
    let bytes = candid::encode_one(&old).unwrap();
    let read = Settings::from_bytes(std::borrow::Cow::Owned(bytes));
    assert_eq!(
        read,
        Settings {
            endpoint: old.endpoint,
            microversion: old.microversion,
            auth_token: old.auth_token,
            images: old.images,
            outcall_budget_cycles: None,
        }
    );
    let funded = Settings {
        outcall_budget_cycles: Some(7),
        ..read
    };
    assert_eq!(Settings::from_bytes(funded.to_bytes()), funded);
}
