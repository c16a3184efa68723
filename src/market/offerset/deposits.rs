//! Hold deposits: with a ledger and the policy `hold_deposit`, each offer an offerset holds
//! costs its consumer a deposit, pulled into the offer's own escrow when the offerset is made.
//! A hold that ends unaccepted (expired, rejected, cancelled) settles like any final execution
//! that owes nothing: the deposit goes back, less the ledger's fee. An accepted offer's deposit
//! stays in its escrow as part of the price (`accept` pulls only the rest).
//!
//! So holding the market's items costs money for as long as they are held, which free
//! identities do not have; the hold caps still bound what a funded one can hold.

use super::{get, holds_asked, request};
use crate::market::payments;
use crate::market::types::*;
use crate::market::{execution, store, MarketError};
use crate::queue;
use crate::runtime::Runtime;
use futures_util::future::join_all;

/// `offerset_request`: with a ledger and a deposit policy, the consumer's allowance and
/// balance are asked first (writing nothing) for a deposit per offer it asks for; then the
/// offerset is made as in a free market and every hold's deposit pulled at once. A hold whose
/// deposit the ledger refuses is rejected, with a message in the offerset.
pub async fn request_paying(
    rt: &impl Runtime,
    arg: ResourceRequest,
) -> Result<OffersetView, MarketError> {
    let deposit = store::policies().hold_deposit.unwrap_or(0);
    let Some(ledger) = payments::ledger().filter(|_| deposit > 0) else {
        return request(rt, arg);
    };
    // A deposit for every offer asked for (within the caller's caps): matching runs once,
    // after the ledger's answers, on the world as it is then.
    let holds = holds_asked(rt, arg.clone())?;
    if holds == 0 {
        return request(rt, arg);
    }
    let fee = payments::afford_each(rt, ledger, rt.caller(), deposit, u64::from(holds)).await?;
    // The world may have moved during the awaits: the request is matched again.
    let view = request(rt, arg)?;
    // Its offers are the holds just made (a pull needs only their id and consumer).
    let pulls = view
        .offers
        .iter()
        .map(|hold| payments::pull(rt, ledger, hold, Purpose::Deposit, deposit, fee));
    let answers = join_all(pulls).await;
    let mut dropped = false;
    for (hold, answer) in view.offers.iter().zip(answers) {
        if let Err(refused) = answer {
            drop_hold(rt, view.offerset.id, hold.id, &refused);
            dropped = true;
        }
    }
    if !dropped {
        // As it was made: reading it again would cost millions of instructions.
        return Ok(view);
    }
    // A dropped hold queued its settlement without a timer (an unread answer's deposit).
    queue::rearm(rt);
    get(rt, view.offerset.id)
}

/// A hold whose deposit was refused: rejected (if still OFFERED) and the refusal told in its
/// offerset. Should the ledger have taken the deposit after all (an answer that did not
/// decode), the settlement finds it in the escrow and returns it.
fn drop_hold(rt: &impl Runtime, offerset_id: u64, execution_id: u64, refused: &MarketError) {
    let now = rt.time();
    let text =
        format!("execution {execution_id} was not held: its deposit was refused ({refused:?})");
    if let Some(mut hold) = store::execution(execution_id) {
        if hold.phase == Phase::Offered {
            let actor = Actor::Consumer(hold.consumer);
            // OFFERED may always become REJECTED.
            let _ = execution::transition(now, &actor, &mut hold, Phase::Rejected, &text);
        }
    }
    if let Some(mut offerset) = store::offerset(offerset_id) {
        offerset.messages.push(Message {
            level: Level::Warn,
            text,
        });
        store::put_offerset(&offerset);
    }
}
