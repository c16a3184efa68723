//! Reading items: the paged list and the SKU portal view (pez `GET /products`).

use crate::catalog::provider::ProviderKey;
use crate::market::types::*;
use crate::market::MarketError;
use crate::market::{index, page_limit, sku, store, MAX_SCANNED};

use ItemStatus::*;

pub fn list(arg: InventoryListArg) -> Result<ItemPage, MarketError> {
    let provider = arg
        .provider
        .as_ref()
        .map(ProviderKey::parse_for_lookup)
        .transpose()
        .map_err(|message| MarketError::InvalidKey { message })?;
    let sku = arg.sku.as_deref().map(sku::canonical).transpose()?;
    let limit = page_limit(arg.limit)?;
    let after = arg.after.unwrap_or(0);
    let keep = |item: &Item| {
        sku.as_ref().is_none_or(|sku| *sku == item.sku)
            && arg.status.is_none_or(|status| status == item.status)
    };
    let (items, next) = match provider {
        Some(provider) => store::provider_items_after(&provider, after, keep, limit, MAX_SCANNED),
        None => store::items_after(after, keep, limit, MAX_SCANNED),
    };
    Ok(ItemPage { items, next })
}

/// One entry per SKU present, sorted by SKU (pez `GET /products`).
pub fn products(now: u64) -> Vec<Product> {
    // From the heap summaries: decoding every item from stable memory would outgrow a query
    // at ten thousand items.
    let mut products = Vec::new();
    index::for_each_sku(|sku, items| {
        let mut product = empty_product(sku);
        for (item_id, status) in items {
            product.total += 1;
            if status != Available
                || store::overlapping_booking(item_id, now, now.saturating_add(1)).is_some()
            {
                continue;
            }
            product.available += 1;
            if let Some(price) = index::price_now(item_id, now) {
                product.leasable_now += 1;
                product.min_price_per_hour = Some(
                    product
                        .min_price_per_hour
                        .map_or(price, |min| min.min(price)),
                );
            }
        }
        products.push(product);
    });
    products
}

fn empty_product(sku_text: &str) -> Product {
    let sku = sku::parse(sku_text).expect("stored SKUs are canonical");
    Product {
        sku: sku_text.into(),
        tier: sku.tier,
        tier_name: sku::tier_name(sku.tier).unwrap_or_default().into(),
        kind: sku.kind.to_string(),
        kind_name: sku::kind_name(sku.kind).unwrap_or_default().into(),
        size: sku.size,
        total: 0,
        available: 0,
        leasable_now: 0,
        min_price_per_hour: None,
    }
}
