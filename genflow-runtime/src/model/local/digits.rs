//! [`DigitRun`]: at most [`MAX_DIGITS`] digits in a row in a constrained reply's numbers.
//! JSON Schema bounds no number's length and llguidance's grammar follows it, so a small model
//! can write digits until its token budget ends and the value never closes. Each part of a
//! number (integer, fraction, exponent) is capped, as llama.cpp's JSON grammars cap them;
//! strings are left alone.

use llguidance::toktrie::{SimpleVob, TokTrie, TokenId};

/// The most digits in a row outside strings.
pub(crate) const MAX_DIGITS: usize = 16;

/// A vocabulary's tokens that start with a digit, shared by its replies.
pub(crate) struct DigitTokens(Vec<DigitToken>);

/// A token that starts with a digit.
struct DigitToken {
    id: TokenId,
    /// Its digits before anything else.
    leading: usize,
}

impl DigitTokens {
    /// The digit tokens of `trie`.
    pub(crate) fn new(trie: &TokTrie) -> Self {
        Self::of((0..trie.vocab_size() as TokenId).map(|id| (id, trie.token(id))))
    }

    fn of<'a>(tokens: impl IntoIterator<Item = (TokenId, &'a [u8])>) -> Self {
        DigitTokens(
            tokens
                .into_iter()
                .filter_map(|(id, bytes)| {
                    let leading = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
                    (leading > 0).then_some(DigitToken { id, leading })
                })
                .collect(),
        )
    }
}

/// Where one reply's JSON text stands: inside a string or not, and the digits just written.
#[derive(Default)]
pub(crate) struct DigitRun {
    in_string: bool,
    escaped: bool,
    run: usize,
}

impl DigitRun {
    /// Moves past a token's `bytes`.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.in_string {
                match (self.escaped, b) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                self.run = 0;
            } else if b.is_ascii_digit() {
                self.run += 1;
            } else {
                self.in_string = b == b'"';
                self.run = 0;
            }
        }
    }

    /// Takes out of `mask` the tokens that would make the run longer than [`MAX_DIGITS`],
    /// unless they are all it allows (a schema asking for more digits, such as a minimum of
    /// 10^20, still gets them).
    pub(crate) fn cap(&self, tokens: &DigitTokens, mask: &mut SimpleVob) {
        if self.in_string {
            return;
        }
        let too_long: Vec<TokenId> = tokens
            .0
            .iter()
            .filter(|t| self.run + t.leading > MAX_DIGITS && mask.is_allowed(t.id))
            .map(|t| t.id)
            .collect();
        too_long.iter().for_each(|&id| mask.disallow_token(id));
        if mask.is_zero() {
            too_long.iter().for_each(|&id| mask.allow_token(id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tokens 0 `7`, 1 `42`, 2 `3,`, 3 `"`, 4 `}`.
    fn tokens() -> DigitTokens {
        DigitTokens::of([
            (0, b"7".as_slice()),
            (1, b"42"),
            (2, b"3,"),
            (3, b"\""),
            (4, b"}"),
        ])
    }

    fn allowed_after(text: &str, allowed: &[TokenId]) -> Vec<u32> {
        let mut run = DigitRun::default();
        run.push(text.as_bytes());
        let mut mask = SimpleVob::alloc(5);
        allowed.iter().for_each(|&id| mask.allow_token(id));
        run.cap(&tokens(), &mut mask);
        mask.to_list()
    }

    #[test]
    fn a_number_stops_growing_at_the_cap() {
        let fifteen = "1".repeat(15);
        assert_eq!(
            allowed_after(&format!("{{\"n\":{fifteen}"), &[0, 1, 2, 4]),
            [0, 2, 4]
        );
        assert_eq!(
            allowed_after(&format!("{{\"n\":{fifteen}1"), &[0, 1, 2, 4]),
            [4]
        );
        // The fraction is a new run.
        assert_eq!(
            allowed_after(&format!("{{\"n\":{fifteen}1."), &[0, 1]),
            [0, 1]
        );
    }

    #[test]
    fn strings_and_escaped_quotes_are_left_alone() {
        let digits = "1".repeat(20);
        assert_eq!(allowed_after(&format!("{{\"{digits}"), &[0, 1]), [0, 1]);
        assert_eq!(
            allowed_after(&format!("{{\"a\\\"{digits}"), &[0, 1]),
            [0, 1]
        );
        assert_eq!(
            allowed_after(&format!("{{\"a\":\"{digits}\",\"b\":{digits}"), &[0, 1, 4]),
            [4]
        );
    }

    #[test]
    fn digits_stay_when_nothing_else_is_allowed() {
        let digits = "1".repeat(16);
        assert_eq!(allowed_after(&digits, &[0, 1]), [0, 1]);
    }
}
