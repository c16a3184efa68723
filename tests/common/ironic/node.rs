//! A node as the fake Ironic stores it: its JSON, its provision-state machine, JSON patches.

use super::ENDPOINT;
use serde_json::{json, Map, Value};

/// A node as the fake Ironic stores it.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeNode {
    pub uuid: String,
    pub name: String,
    pub resource_class: String,
    pub provision_state: String,
    pub target_provision_state: Option<String>,
    pub maintenance: bool,
    pub maintenance_reason: Option<String>,
    pub lessee: Option<String>,
    pub instance_uuid: Option<String>,
    pub instance_info: Map<String, Value>,
    pub last_error: Option<String>,
    pub power_state: String,
    /// The next deploy ends in `deploy failed` with this `last_error`.
    pub fail_deploy: Option<String>,
    /// The next clean ends in `clean failed` with this `last_error`.
    pub fail_clean: Option<String>,
    /// The `configdrive` of the last deploy request.
    pub configdrive: Option<Value>,
    /// Past the agent's call-back (the second `deploying`) or the clean wait.
    pub past_wait: bool,
    /// Every provision state the node went through, in order.
    pub history: Vec<String>,
}

impl FakeNode {
    pub fn new(uuid: &str, name: &str, resource_class: &str) -> Self {
        Self {
            uuid: uuid.into(),
            name: name.into(),
            resource_class: resource_class.into(),
            provision_state: "available".into(),
            target_provision_state: None,
            maintenance: false,
            maintenance_reason: None,
            lessee: None,
            instance_uuid: None,
            instance_info: Map::new(),
            last_error: None,
            power_state: "power off".into(),
            fail_deploy: None,
            fail_clean: None,
            configdrive: None,
            past_wait: false,
            history: vec!["available".into()],
        }
    }

    pub fn image_source(&self) -> Option<String> {
        self.instance_info
            .get("image_source")
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    pub(super) fn is_transitional(&self) -> bool {
        matches!(
            self.provision_state.as_str(),
            "deploying" | "wait call-back" | "deleting" | "cleaning" | "clean wait"
        )
    }

    pub(super) fn enter(&mut self, state: &str, target: Option<&str>) {
        self.provision_state = state.into();
        self.target_provision_state = target.map(str::to_string);
        self.history.push(state.into());
    }

    /// One step along Ironic's state machine; false when the node is at rest.
    pub(super) fn advance(&mut self) -> bool {
        match (self.provision_state.as_str(), self.past_wait) {
            ("deploying", false) => {
                self.enter("wait call-back", Some("active"));
                self.past_wait = true;
            }
            ("wait call-back", _) => self.enter("deploying", Some("active")),
            ("deploying", true) => match self.fail_deploy.take() {
                Some(error) => {
                    self.last_error = Some(error);
                    self.enter("deploy failed", Some("active"));
                }
                None => {
                    self.power_state = "power on".into();
                    self.enter("active", None);
                }
            },
            ("deleting", _) => {
                // Tearing the instance down forgets it; the lessee is the node's, not the instance's.
                self.instance_info = Map::new();
                self.instance_uuid = None;
                self.power_state = "power off".into();
                self.past_wait = false;
                self.enter("cleaning", Some("available"));
            }
            ("cleaning", false) => {
                self.past_wait = true;
                self.enter("clean wait", Some("available"));
            }
            ("clean wait", _) => self.enter("cleaning", Some("available")),
            ("cleaning", true) => match self.fail_clean.take() {
                Some(error) => {
                    self.last_error = Some(error.clone());
                    // Ironic puts a node whose cleaning failed in maintenance.
                    self.maintenance = true;
                    self.maintenance_reason = Some(error);
                    self.enter("clean failed", None);
                }
                None => self.enter("available", None),
            },
            _ => return false,
        }
        true
    }

    /// The node's full JSON (`GET /v1/nodes/{ident}`), as the API reference shows it.
    pub fn full_json(&self) -> Value {
        json!({
            "uuid": self.uuid,
            "name": self.name,
            "driver": "ipmi",
            "driver_info": {"ipmi_address": "10.0.0.17", "ipmi_username": "admin", "ipmi_password": "******"},
            "resource_class": self.resource_class,
            "provision_state": self.provision_state,
            "target_provision_state": self.target_provision_state,
            "provision_updated_at": "2026-11-20T14:02:11+00:00",
            "power_state": self.power_state,
            "target_power_state": null,
            "maintenance": self.maintenance,
            "maintenance_reason": self.maintenance_reason,
            "fault": if self.provision_state == "clean failed" { json!("clean failure") } else { Value::Null },
            "last_error": self.last_error,
            "reservation": null,
            "conductor": "conductor-1",
            "conductor_group": "",
            "owner": "0809e9d1a6a94a22b1a6c0c2f2a7f3c1",
            "lessee": self.lessee,
            "instance_uuid": self.instance_uuid,
            "instance_info": Value::Object(self.instance_info.clone()),
            "driver_internal_info": {"agent_url": "http://10.0.0.17:9999"},
            "properties": {"cpus": 64, "memory_mb": 524288, "local_gb": 1920, "cpu_arch": "x86_64"},
            "extra": {},
            "automated_clean": null,
            "protected": false,
            "retired": false,
            "created_at": "2026-01-05T09:12:44+00:00",
            "updated_at": "2026-11-20T14:02:11+00:00",
            "links": [
                {"href": format!("{ENDPOINT}/v1/nodes/{}", self.uuid), "rel": "self"},
                {"href": format!("{ENDPOINT}/nodes/{}", self.uuid), "rel": "bookmark"}
            ]
        })
    }

    /// The node with only `fields` (Ironic keeps `links` only when asked), or the short form
    /// of a list without `detail`.
    pub(super) fn json(&self, fields: Option<&[String]>, short: bool) -> Value {
        let full = self.full_json();
        let keep: Vec<String> = match fields {
            Some(fields) => fields.to_vec(),
            None if short => [
                "uuid",
                "name",
                "instance_uuid",
                "power_state",
                "provision_state",
                "maintenance",
                "links",
            ]
            .map(String::from)
            .to_vec(),
            None => return full,
        };
        let full = full.as_object().unwrap();
        Value::Object(
            keep.iter()
                .filter_map(|k| full.get(k).map(|v| (k.clone(), v.clone())))
                .collect(),
        )
    }
}

pub(super) fn apply_patch(node: &mut FakeNode, op: &Value) -> Result<(), String> {
    let kind = op.get("op").and_then(Value::as_str).unwrap_or("");
    let path = op.get("path").and_then(Value::as_str).unwrap_or("");
    let value = op.get("value").cloned();
    match (kind, path) {
        ("add" | "replace", "/lessee") => {
            let Some(Value::String(lessee)) = value else {
                return Err("lessee must be a string".into());
            };
            node.lessee = Some(lessee);
        }
        ("remove", "/lessee") => node.lessee = None,
        ("add" | "replace", "/instance_info") => match value {
            Some(Value::Object(map)) => node.instance_info = map,
            _ => return Err("instance_info must be an object".into()),
        },
        ("remove", "/instance_info") => node.instance_info = Map::new(),
        (kind, path) if path.starts_with("/instance_info/") => {
            let key = path["/instance_info/".len()..].to_string();
            match kind {
                "add" => {
                    node.instance_info.insert(key, value.unwrap_or(Value::Null));
                }
                "replace" if node.instance_info.contains_key(&key) => {
                    node.instance_info.insert(key, value.unwrap_or(Value::Null));
                }
                "replace" => return Err(format!("can't replace a non-existent object '{key}'")),
                "remove" if node.instance_info.remove(&key).is_some() => {}
                "remove" => return Err(format!("can't remove a non-existent object '{key}'")),
                other => return Err(format!("unknown operation '{other}'")),
            }
        }
        ("add" | "replace" | "remove", path) => {
            return Err(format!(
                "Adding a new attribute ({path}) to the root of the resource is not allowed."
            ))
        }
        (other, _) => return Err(format!("unknown operation '{other}'")),
    }
    Ok(())
}
