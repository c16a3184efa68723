//! Paid executions' payments (`market::payments`), kept apart from the executions so that
//! reading an execution never decodes one.

use super::PAYMENTS;
use crate::market::types::Payment;

pub fn payment(execution_id: u64) -> Option<Payment> {
    PAYMENTS.with_borrow(|payments| payments.get(&execution_id))
}

pub fn put_payment(execution_id: u64, payment: &Payment) {
    PAYMENTS.with_borrow_mut(|payments| payments.insert(execution_id, payment.clone()));
}

pub fn remove_payment(execution_id: u64) {
    PAYMENTS.with_borrow_mut(|payments| payments.remove(&execution_id));
}
