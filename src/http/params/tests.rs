use super::*;

#[test]
fn an_empty_query_string_is_every_offering_as_json() {
    let query = search_query("").unwrap();
    assert_eq!(
        query,
        SearchQuery {
            format: Some(Format::Json),
            ..SearchQuery::default()
        }
    );
}

#[test]
fn parameters_map_onto_the_search_query_percent_decoded() {
    let query = search_query(
        "text=amd+epyc%20ryzen&country=de&city=Frankfurt%20am%20Main&currency=EUR\
             &min_price=10&max_price=99.9&limit=20&cursor=a%2Bb%3D&sort=price_desc",
    )
    .unwrap();
    assert_eq!(
        query,
        SearchQuery {
            text: Some("amd epyc ryzen".into()),
            filters: Some(Filters {
                price: Some(PriceFilter {
                    currency: "EUR".into(),
                    min_minor: Some(1000),
                    max_minor: Some(9990),
                }),
                country: Some("de".into()),
                city: Some("Frankfurt am Main".into()),
                ..Filters::default()
            }),
            sort: Some(SortOrder::PriceDesc),
            cursor: Some("a+b=".into()),
            limit: Some(20),
            format: Some(Format::Json),
        }
    );
}

#[test]
fn a_currency_alone_filters_by_currency() {
    let query = search_query("currency=USD").unwrap();
    let price = query.filters.unwrap().price.unwrap();
    assert_eq!((price.min_minor, price.max_minor), (None, None));
    assert_eq!(price.currency, "USD");
}

#[test]
fn bad_parameters_are_refused_with_a_reason() {
    for (query_string, reason) in [
        ("colour=red", "unknown parameter `colour`"),
        ("text=a&text=b", "more than once"),
        ("max_price=10", "need currency"),
        ("currency=EUR&max_price=ten", "max_price: an amount"),
        ("currency=EUR&max_price=1.999", "max_price: an amount"),
        ("currency=EUR&min_price=-1", "min_price: an amount"),
        ("currency=EUR&min_price=.5", "min_price: an amount"),
        ("currency=EUR&max_price=999999999999999999999", "max_price"),
        ("limit=-1", "limit: a whole number"),
        ("sort=cheapest", "sort: price_asc or price_desc"),
    ] {
        let error = search_query(query_string).unwrap_err();
        assert!(error.contains(reason), "{query_string}: {error}");
    }
}

#[test]
fn amounts_are_hundredths() {
    assert_eq!(amount("p", "0"), Ok(0));
    assert_eq!(amount("p", "7.5"), Ok(750));
    assert_eq!(amount("p", "7.05"), Ok(705));
    assert_eq!(amount("p", "7."), Ok(700));
    assert_eq!(amount("p", "184467440737095516"), Ok(18446744073709551600));
    assert!(amount("p", "184467440737095517").is_err());
}
