//! Principals, keys and typed calls the drill builds and walks the state with.

use candid::utils::ArgumentEncoder;
use candid::{CandidType, Deserialize, Principal};
use ic0_host::Host;
use marketplace::api::*;
use marketplace::catalog::signing;
use serde_bytes::ByteBuf;

// --- principals and keys ---

pub(super) fn delegate() -> Principal {
    Principal::self_authenticating(b"drill market delegate")
}

pub(super) fn ironic_delegate() -> Principal {
    Principal::self_authenticating(b"drill ironic delegate")
}

pub(super) fn consumer(i: u32) -> Principal {
    Principal::self_authenticating(format!("drill consumer {i}").as_bytes())
}

pub(super) fn stranger() -> Principal {
    Principal::self_authenticating(b"drill stranger")
}

pub(super) fn uploader() -> Principal {
    Principal::self_authenticating(b"drill uploader")
}

pub(super) fn key(secret: &[u8; 32]) -> ProviderKeyInput {
    ProviderKeyInput::Raw(ByteBuf::from(
        signing::provider_of(secret).as_bytes().to_vec(),
    ))
}

pub(super) fn pem(secret: &[u8; 32]) -> String {
    signing::provider_of(secret).to_pem()
}

pub(super) fn lessee_key(seed: u8) -> ByteBuf {
    ByteBuf::from(vec![seed; 32])
}

// --- calls ---

pub(super) fn update<A: ArgumentEncoder, T: CandidType + for<'a> Deserialize<'a>>(
    host: &mut Host,
    caller: Principal,
    method: &str,
    args: A,
) -> T {
    let reply = host
        .update(caller, method, &candid::encode_args(args).unwrap())
        .unwrap_or_else(|r| panic!("{method}: {r}"));
    candid::decode_one(&reply).unwrap_or_else(|e| panic!("{method} reply: {e}"))
}

pub(super) fn query<A: ArgumentEncoder, T: CandidType + for<'a> Deserialize<'a>>(
    host: &mut Host,
    caller: Principal,
    method: &str,
    args: A,
) -> T {
    let reply = host
        .query(caller, method, &candid::encode_args(args).unwrap())
        .unwrap_or_else(|r| panic!("{method}: {r}"));
    candid::decode_one(&reply).unwrap_or_else(|e| panic!("{method} reply: {e}"))
}

pub(super) fn status(host: &mut Host) -> Status {
    query(host, stranger(), "status", ())
}

/// Runs every timer firing up to `at_ns`, at the times they are due (as the IC would).
pub(super) fn advance_to(host: &mut Host, at_ns: u64) {
    loop {
        let deadline = host.timer_deadline();
        if deadline == 0 || deadline > at_ns {
            break;
        }
        host.set_time(deadline.max(host.time()));
        host.tick();
    }
    host.set_time(at_ns);
    host.tick();
}
