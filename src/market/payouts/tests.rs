use super::*;
use crate::catalog::keys::{self, ProviderFreezeArg, RecoverKeyArg};
use crate::catalog::signing;
use crate::market::offerset::testing::*;
use crate::runtime::FakeRuntime;

/// The provider key's own principal: the only caller that names its payout account.
fn key_principal() -> Principal {
    signing::provider_of(&SECRET).principal()
}

fn to(owner: Principal, subaccount: Option<[u8; 32]>) -> Account {
    Account { owner, subaccount }
}

fn set_as(
    rt: &FakeRuntime,
    who: Principal,
    account: Option<Account>,
) -> Result<ProviderPayout, MarketError> {
    let arg = PayoutSetArg {
        provider: key_input(),
        account,
    };
    calling(rt, who, || set(rt, arg))
}

/// The market fixture with an item registered: a provider the market knows.
fn provider_with_items() -> FakeRuntime {
    let rt = market();
    item(&rt, "n1", "2C.small", 8);
    rt
}

#[test]
fn a_key_with_no_items_or_catalog_names_nothing_and_writes_nothing() {
    let rt = market();
    let before = snapshot();
    assert!(matches!(
        set_as(&rt, key_principal(), None),
        Err(MarketError::InvalidArgument { .. })
    ));
    assert_eq!(snapshot(), before);
    assert_eq!(
        keys::current_and_payout(&signing::provider_of(&SECRET)).1,
        None
    );
}

#[test]
fn only_the_providers_own_key_names_its_payout_account() {
    let rt = provider_with_items();
    let payee = to(bob(), Some([9; 32]));
    let default = get(key_input()).unwrap();
    assert_eq!(default.account, to(key_principal(), None));
    assert!(!default.named);
    // Its delegate, a consumer, a controller and the anonymous principal are refused.
    for who in [provider(), alice(), admin(), Principal::anonymous()] {
        assert!(
            matches!(
                set_as(&rt, who, Some(payee)),
                Err(MarketError::NotAuthorized { .. })
            ),
            "{who}"
        );
        assert_eq!(get(key_input()).unwrap(), default, "nothing changed");
    }
    let named = set_as(&rt, key_principal(), Some(payee)).unwrap();
    assert_eq!(named.account, payee);
    assert!(named.named);
    assert_eq!(get(key_input()).unwrap(), named);
    assert_eq!(
        account_for(&signing::provider_of(&SECRET).to_pem()),
        Some(payee)
    );
    // No account: back to the key's principal.
    assert_eq!(set_as(&rt, key_principal(), None).unwrap(), default);
}

#[test]
fn payouts_never_go_to_nobody_or_to_the_market_itself() {
    let rt = provider_with_items();
    for owner in [Principal::anonymous(), FakeRuntime::CANISTER_ID] {
        assert!(matches!(
            set_as(&rt, key_principal(), Some(to(owner, None))),
            Err(MarketError::InvalidArgument { .. })
        ));
    }
    assert!(!get(key_input()).unwrap().named);
}

#[test]
fn a_frozen_provider_cannot_redirect_and_a_recovery_forgets_what_a_thief_named() {
    let rt = provider_with_items();
    let thief = to(Principal::from_slice(&[6; 29]), None);
    set_as(&rt, key_principal(), Some(thief)).unwrap();
    let freeze = |frozen| {
        calling(&rt, admin(), || {
            keys::freeze(
                &rt,
                ProviderFreezeArg {
                    provider: key_input(),
                    frozen,
                },
            )
        })
        .unwrap()
    };
    freeze(true);
    assert_eq!(
        set_as(&rt, key_principal(), None),
        Err(MarketError::ProviderFrozen)
    );
    freeze(false);
    // The controllers recover the account to a new key: the named account is forgotten and
    // payouts go to the new key's principal; the old key may name nothing any more.
    let new_secret = [10; 32];
    let new_key = signing::provider_of(&new_secret);
    let arg = RecoverKeyArg {
        provider: key_input(),
        new_key: ProviderKeyInput::Raw(new_key.as_bytes().to_vec().into()),
    };
    calling(&rt, admin(), || keys::recover(&rt, arg)).unwrap();
    let after = get(key_input()).unwrap();
    assert_eq!(after.account, to(new_key.principal(), None));
    assert_eq!(after.provider_pem, new_key.to_pem());
    assert!(!after.named);
    assert!(matches!(
        set_as(&rt, key_principal(), None),
        Err(MarketError::KeyRotated { .. })
    ));
    let arg = PayoutSetArg {
        provider: ProviderKeyInput::Raw(new_key.as_bytes().to_vec().into()),
        account: Some(to(bob(), None)),
    };
    let named = calling(&rt, new_key.principal(), || set(&rt, arg)).unwrap();
    assert_eq!(named.account, to(bob(), None));
    // Executions signed with the old key pay the account's choice.
    assert_eq!(
        account_for(&signing::provider_of(&SECRET).to_pem()),
        Some(to(bob(), None))
    );
}
