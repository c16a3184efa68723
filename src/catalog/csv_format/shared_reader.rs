//! The one `csv` crate reader that every parse shares, rewound onto each input.

use csv::{ByteRecord, Position};
use std::cell::RefCell;
use std::io::{self, Cursor, SeekFrom};

/// Records of any length (counts are checked by the caller, row by row), "\r\n" or "\n" lines.
pub(crate) fn reader<R: io::Read>(input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input)
}

thread_local! {
    // Building a reader compiles its state machine: about 1.4 M instructions on wasm, more than
    // a hundred rows take to parse. Every parse (catalogs and single rows) rewinds this one,
    // and reads into the same record, whose buffers are then already allocated.
    static READER: RefCell<(csv::Reader<Cursor<Vec<u8>>>, ByteRecord)> =
        RefCell::new((rewound_reader(), ByteRecord::new()));
}

/// Input kept by the shared reader between parses; a larger catalog's copy is released.
const KEPT_INPUT_BYTES: usize = 64 * 1024;

/// A reader on an empty input, rewound once: the first rewind reads the headers (`has_headers`
/// is off, so they are never used), which would otherwise happen on a later rewind, on a real
/// input.
fn rewound_reader() -> csv::Reader<Cursor<Vec<u8>>> {
    let mut reader = reader(Cursor::new(Vec::new()));
    rewind(&mut reader);
    reader
}

/// Rewinds `reader`, which also resets its parser: it then reads its source exactly as a new
/// reader would (byte order mark and positions included).
fn rewind(reader: &mut csv::Reader<Cursor<Vec<u8>>>) {
    // Seeking a Cursor has no failure mode, and the headers were read from an empty input.
    reader
        .seek_raw(SeekFrom::Start(0), Position::new())
        .expect("a Cursor seeks");
}

/// Runs `read` on the shared reader rewound onto a copy of `input`, and the shared record.
pub(super) fn with_reader<T>(
    input: &[u8],
    read: impl FnOnce(&mut csv::Reader<Cursor<Vec<u8>>>, &mut ByteRecord) -> T,
) -> T {
    READER.with_borrow_mut(|(reader, record)| {
        let source = reader.get_mut().get_mut();
        source.clear();
        source.extend_from_slice(input);
        rewind(reader);
        let result = read(reader, record);
        let source = reader.get_mut().get_mut();
        source.clear();
        source.shrink_to(KEPT_INPUT_BYTES);
        result
    })
}
