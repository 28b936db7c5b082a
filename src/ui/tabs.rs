//! The digits that jump to a tab: 1-9, then 0 for the tenth.

/// The digit of the tab at `index`, if it has one.
pub fn digit(index: usize) -> Option<char> {
    match index {
        0..=8 => Some((b'1' + index as u8) as char),
        9 => Some('0'),
        _ => None,
    }
}

/// The tab a digit jumps to.
pub fn from_digit(c: char) -> Option<usize> {
    match c {
        '1'..='9' => Some(c as usize - '1' as usize),
        '0' => Some(9),
        _ => None,
    }
}
