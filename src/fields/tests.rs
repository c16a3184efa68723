use super::*;

#[test]
fn reads_fields_in_order_and_none_past_the_end() {
    let mut bytes = 7u64.to_le_bytes().to_vec();
    bytes.extend(9u32.to_le_bytes());
    let mut fields = Fields::new(&bytes);
    assert_eq!(fields.u64(), Some(7));
    assert_eq!(fields.u32(), Some(9));
    assert_eq!(fields.u64(), None);
    assert_eq!(Fields::new(&[1, 2, 3]).u32(), None);
}
