//! Go's `unicode` classes by general category (hadolint's Haskell
//! `Data.Char` classes are the same categories).

use unicode_general_category::{GeneralCategory, get_general_category};

/// Go's `unicode.IsLetter` (general category L; Haskell's `isLetter`).
pub fn is_letter(character: char) -> bool {
    if character.is_ascii() {
        return character.is_ascii_alphabetic();
    }
    use GeneralCategory as C;
    matches!(
        get_general_category(character),
        C::UppercaseLetter
            | C::LowercaseLetter
            | C::TitlecaseLetter
            | C::ModifierLetter
            | C::OtherLetter
    )
}

/// Go's `unicode.IsDigit` (general category Nd).
pub fn is_digit(character: char) -> bool {
    if character.is_ascii() {
        return character.is_ascii_digit();
    }
    get_general_category(character) == GeneralCategory::DecimalNumber
}

/// Go's `unicode.IsPrint` (and `strconv.IsPrint`): letters, marks, numbers,
/// punctuation, symbols and the ASCII space.
pub fn is_print(character: char) -> bool {
    if character == ' ' || is_letter(character) {
        return true;
    }
    use GeneralCategory as C;
    matches!(
        get_general_category(character),
        C::NonspacingMark
            | C::SpacingMark
            | C::EnclosingMark
            | C::DecimalNumber
            | C::LetterNumber
            | C::OtherNumber
            | C::ConnectorPunctuation
            | C::DashPunctuation
            | C::OpenPunctuation
            | C::ClosePunctuation
            | C::InitialPunctuation
            | C::FinalPunctuation
            | C::OtherPunctuation
            | C::MathSymbol
            | C::CurrencySymbol
            | C::ModifierSymbol
            | C::OtherSymbol
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_the_general_category() {
        assert!(is_letter('a') && is_letter('\u{e9}') && is_letter('\u{5b57}'));
        // Letter numbers and combining marks are alphabetic in Rust, not letters in Go.
        assert!(!is_letter('\u{2160}') && !is_letter('\u{301}') && !is_letter('1'));
        assert!(is_digit('7') && is_digit('\u{661}') && !is_digit('\u{b2}'));
        assert!(is_print(' ') && is_print('\u{e9}') && is_print('\u{301}'));
        assert!(!is_print('\u{a0}') && !is_print('\t') && !is_print('\u{7f}'));
    }
}
