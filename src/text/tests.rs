use super::*;

const NAME: TextBounds = TextBounds {
    max_bytes: 8,
    allow_empty: false,
    allow_control: false,
};
const REASON: TextBounds = TextBounds {
    max_bytes: 8,
    allow_empty: true,
    allow_control: true,
};

#[test]
fn lengths_are_checked_in_bytes_with_the_field_named() {
    assert_eq!(check("name", "node-1", NAME), Ok(()));
    assert_eq!(check("name", "12345678", NAME), Ok(()));
    assert_eq!(
        check("name", "123456789", NAME),
        Err("name must be 1 to 8 bytes without control characters, got 9".into())
    );
    assert_eq!(
        check("name", "", NAME),
        Err("name must be 1 to 8 bytes without control characters, got 0".into())
    );
    // Three 3-byte characters are 9 bytes.
    assert!(check("name", "ééé€", NAME).is_err());
    assert_eq!(check("reason", "", REASON), Ok(()));
    assert_eq!(
        check("reason", "123456789", REASON),
        Err("reason must be 0 to 8 bytes, got 9".into())
    );
}

#[test]
fn control_characters_only_where_allowed() {
    assert_eq!(
        check("name", "a\nb", NAME),
        Err("name must be 1 to 8 bytes without control characters, got a control character".into())
    );
    assert_eq!(check("reason", "a\nb", REASON), Ok(()));
}

#[test]
fn hex_arrays_take_exactly_their_digits_and_nothing_else() {
    assert_eq!(hex_array::<32>(&"0f".repeat(32)), Some([15; 32]));
    assert_eq!(hex_array::<32>(&"0f".repeat(31)), None);
    assert_eq!(hex_array::<32>(&"zz".repeat(32)), None);
    assert_eq!(hex_array::<32>(&"é".repeat(32)), None);
    assert_eq!(hex_array::<32>(&"+f".repeat(32)), None, "no signs");
    assert_eq!(hex_array::<32>(&"0F".repeat(32)), Some([15; 32]));
}
