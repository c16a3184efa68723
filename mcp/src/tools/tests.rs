use super::*;
use candid::{Decode, Encode};

fn response() -> ProvisionResponse {
    ProvisionResponse {
        operation_id: "node-1".into(),
        server_id: "node-1".into(),
        server_name: "rack1-u12".into(),
        item_id: 7,
        status: OperationStatus::InProgress,
        message: "deploying".into(),
        started_at_ns: 1_700_000_000_500_000_000,
    }
}

#[test]
fn the_request_carries_every_parameter() {
    let params = ProvisionServerParams {
        image_id: "ubuntu-24.04".into(),
        server_id: None,
        resource_class: Some("baremetal.large".into()),
        provider_pem: Some("-----BEGIN PUBLIC KEY-----\n…".into()),
        config_drive: Some("#cloud-config\n".into()),
    };
    let bytes = encode_provision(&params);
    let decoded = Decode!(&bytes, ProvisionRequest).unwrap();
    assert_eq!(
        decoded,
        ProvisionRequest {
            server_id: None,
            resource_class: Some("baremetal.large".into()),
            image_id: "ubuntu-24.04".into(),
            config_drive: Some("#cloud-config\n".into()),
            provider: Some(ProviderKeyInput::Pem(
                "-----BEGIN PUBLIC KEY-----\n…".into()
            )),
        }
    );
    assert_eq!(
        Decode!(&encode_operation("node-1"), String).unwrap(),
        "node-1"
    );
}

#[test]
fn arguments_and_replies_match_the_interface() {
    let did = concat!(env!("CARGO_MANIFEST_DIR"), "/../candid/marketplace.did");
    let interface = runner::candid_text::Interface::load(std::path::Path::new(did)).unwrap();
    // The argument, as the .did types it, reads back as the same value.
    let params = ProvisionServerParams {
        image_id: "img".into(),
        server_id: Some("node-1".into()),
        ..Default::default()
    };
    let text = candid::IDLArgs::from_bytes(&encode_provision(&params))
        .unwrap()
        .to_string();
    let typed = interface.encode_call("provision_server", &text).unwrap();
    assert_eq!(Decode!(&typed, ProvisionRequest).unwrap(), params.request());
    // Replies encoded from the Rust types decode with the .did's return types.
    let ok: Result<ProvisionResponse, ProvisionError> = Ok(response());
    interface
        .decode_reply("provision_server", &Encode!(&ok).unwrap())
        .unwrap();
    let err: Result<ProvisionStatus, ProvisionError> = Err(ProvisionError::ServerNotFound {
        server_id: "x".into(),
    });
    interface
        .decode_reply("provision_status", &Encode!(&err).unwrap())
        .unwrap();
}

#[test]
fn a_response_becomes_snake_case_json() {
    let ok: Result<ProvisionResponse, ProvisionError> = Ok(response());
    let result = provision_reply(&Encode!(&ok).unwrap()).unwrap();
    assert_eq!(
        serde_json::to_value(&result).unwrap(),
        serde_json::json!({
            "operation_id": "node-1",
            "server_id": "node-1",
            "server_name": "rack1-u12",
            "item_id": 7,
            "status": "in_progress",
            "message": "deploying",
            "started_at_ns": 1_700_000_000_500_000_000u64,
            "started_at": "2023-11-14T22:13:20.5Z",
        })
    );
}

#[test]
fn a_status_becomes_json_with_lower_case_variants() {
    let status = ProvisionStatus {
        operation_id: "node-1".into(),
        server_id: "node-1".into(),
        item_id: 7,
        kind: OperationKind::Deploy,
        status: OperationStatus::Completed,
        provision_state: "active".into(),
        progress_percent: Some(100),
        message: "".into(),
        started_at_ns: 1_700_000_000_000_000_000,
        completed_at_ns: Some(1_700_000_060_000_000_000),
        checked_at_ns: 1_700_000_060_000_000_000,
        execution_id: None,
    };
    let json = |status: &ProvisionStatus| {
        let ok: Result<ProvisionStatus, ProvisionError> = Ok(status.clone());
        let reply = status_reply("provision_status", &Encode!(&ok).unwrap()).unwrap();
        serde_json::to_value(reply).unwrap()
    };
    let unread = json(&ProvisionStatus {
        checked_at_ns: 0,
        ..status.clone()
    });
    assert_eq!(unread["checked_at"], serde_json::Value::Null);
    let json = json(&status);
    assert_eq!(json["status"], "completed");
    assert_eq!(json["kind"], "deploy");
    assert_eq!(json["progress_percent"], 100);
    assert_eq!(json["completed_at"], "2023-11-14T22:14:20Z");
    assert_eq!(json["checked_at"], "2023-11-14T22:14:20Z");
    assert_eq!(json["execution_id"], serde_json::Value::Null);
    for status in [
        OperationStatus::Accepted,
        OperationStatus::InProgress,
        OperationStatus::Completed,
        OperationStatus::Failed,
    ] {
        let text = serde_json::to_value(super::status(status)).unwrap();
        assert!(
            ["accepted", "in_progress", "completed", "failed"].contains(&text.as_str().unwrap()),
            "{text}"
        );
    }
}

#[test]
fn errors_name_their_variant() {
    let cases = [
        (
            ProvisionError::InvalidArgument {
                message: "image_id is empty".into(),
            },
            "InvalidArgument: image_id is empty",
        ),
        (
            ProvisionError::ServerNotFound {
                server_id: "n".into(),
            },
            "ServerNotFound: Server n not found",
        ),
        (
            ProvisionError::ServerNotAvailable {
                server_id: "n".into(),
                provision_state: "active".into(),
            },
            "ServerNotAvailable: Server n is not available for provisioning \
                 (provision_state active)",
        ),
        (
            ProvisionError::NoAvailableServers {
                resource_class: Some("baremetal.large".into()),
            },
            "NoAvailableServers: No available servers matching criteria (resource_class \
                 baremetal.large)",
        ),
        (
            ProvisionError::ImageNotFound {
                image_id: "i".into(),
            },
            "ImageNotFound: Image i not found",
        ),
        (
            ProvisionError::IronicUnreachable {
                message: "timeout".into(),
            },
            "IronicUnreachable: Failed to communicate with Ironic: timeout",
        ),
        (
            ProvisionError::IronicFailed {
                status: Some(409),
                message: "locked".into(),
            },
            "IronicFailed: Ironic answered HTTP 409: locked",
        ),
    ];
    for (error, text) in cases {
        let err: Result<ProvisionResponse, ProvisionError> = Err(error.clone());
        assert_eq!(
            provision_reply(&Encode!(&err).unwrap()),
            Err(text.to_string())
        );
        assert_eq!(error_text(&error), text);
    }
    assert!(provision_reply(b"DIDL\x00\x00")
        .unwrap_err()
        .starts_with("CallFailed: cannot decode the reply of provision_server"));
}
