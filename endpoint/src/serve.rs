//! Serving: the replica thread behind an HTTP/1.1 listener, until asked to stop.

use crate::keys::Keys;
use crate::replica::{self, Config, Job};
use crate::server::Endpoint;
use candid::Principal;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use ic0_host::Host;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// How long a client may take to send a request's headers.
const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Serves the canisters `load` brings up on `listener` (calling `ready` with their ids, the
/// primary first, once they are up) until `shutdown` completes, then saves their state.
pub async fn serve(
    listener: TcpListener,
    load: impl FnOnce() -> Result<Host, String> + Send + 'static,
    keys: Keys,
    config: Config,
    ready: impl FnOnce(&[Principal]),
    shutdown: impl Future<Output = ()>,
) -> Result<(), String> {
    let keys = Arc::new(keys);
    let (jobs, canisters) = replica::start(load, keys.clone(), config)?;
    ready(&canisters);
    let endpoint = Arc::new(Endpoint {
        jobs: jobs.clone(),
        canister_id: canisters[0],
        canisters,
        subnet_id: keys.subnet_id(),
        root_key_der: keys.root_key_der(),
        node_id: keys.node_id(),
        node: keys,
    });
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let endpoint = endpoint.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let endpoint = endpoint.clone();
                        async move { Ok::<_, std::convert::Infallible>(endpoint.handle(request).await) }
                    });
                    // A client that opens a connection and sends nothing (or a header a byte at a
                    // time) is dropped after a while instead of holding a task forever.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(HEADER_TIMEOUT)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            () = &mut shutdown => break,
        }
    }
    let (reply, answer) = oneshot::channel();
    jobs.send(Job::Stop { reply })
        .map_err(|_| "the replica stopped early".to_string())?;
    answer
        .await
        .map_err(|_| "the replica stopped early".to_string())?
}
