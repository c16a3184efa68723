//! Statements (`payments_list`): each side sees the payments of its own executions only.

use super::*;

fn statement(
    rt: &FakeRuntime,
    who: Principal,
    arg: PaymentsListArg,
) -> Result<PaymentPage, MarketError> {
    calling(rt, who, || list(rt, arg))
}

fn as_consumer(limit: Option<u32>, after: Option<u64>) -> PaymentsListArg {
    PaymentsListArg {
        role: Role::Consumer,
        provider: None,
        after,
        limit,
    }
}

#[test]
fn a_statement_lists_the_payments_of_the_callers_executions_a_page_at_a_time() {
    let (rt, ledger, _) = paid_market();
    let t0 = rt.time.get();
    let first = hold(&rt, t0 + HOUR, 2);
    block_on(accept_paying(&rt, accept_arg(first))).unwrap();
    // An unaccepted hold has no payment; a second lease after the first does.
    let unpaid = hold(&rt, t0 + 4 * HOUR, 1);
    let second = hold(&rt, t0 + 6 * HOUR, 1);
    block_on(accept_paying(&rt, accept_arg(second))).unwrap();
    run_at(&rt, t0 + 3 * HOUR + MINUTE);

    let page = statement(&rt, alice(), as_consumer(None, None)).unwrap();
    let ids: Vec<u64> = page.payments.iter().map(|p| p.execution_id).collect();
    assert_eq!(ids, vec![first, second]);
    assert!(!ids.contains(&unpaid));
    assert_eq!(page.next, None);
    assert_eq!(page.payments[0].payment, payment(first));
    assert_eq!(page.payments[0].payment.state, PaymentState::Settled);
    assert!(page.payments[0]
        .payment
        .transfers
        .iter()
        .all(|t| t.block.is_some()));

    // A page of one, then the rest from `next`.
    let one = statement(&rt, alice(), as_consumer(Some(1), None)).unwrap();
    assert_eq!(one.payments.len(), 1);
    assert_eq!(one.next, Some(first));
    let rest = statement(&rt, alice(), as_consumer(Some(1), one.next)).unwrap();
    assert_eq!(rest.payments[0].execution_id, second);

    // The provider's delegate reads the same payments as the provider's statement.
    let provider_side = PaymentsListArg {
        role: Role::Provider,
        provider: Some(key_input()),
        after: None,
        limit: None,
    };
    let theirs = statement(&rt, provider(), provider_side.clone()).unwrap();
    assert_eq!(theirs.payments, page.payments);
    // Nobody else does.
    assert!(statement(&rt, bob(), as_consumer(None, None))
        .unwrap()
        .payments
        .is_empty());
    assert!(matches!(
        statement(&rt, bob(), provider_side),
        Err(MarketError::NotAuthorized { .. })
    ));
    assert!(matches!(
        statement(&rt, Principal::anonymous(), as_consumer(None, None)),
        Err(MarketError::NotAuthorized { .. })
    ));
    assert!(matches!(
        statement(&rt, alice(), as_consumer(Some(101), None)),
        Err(MarketError::TooMany { .. })
    ));
    assert_conserved(&rt, &ledger);
}
