//! Token sequences stored as runs ("pieces") of consecutive tokens, never token by token.
//!
//! A serving trace has ~10^5 requests of thousands of tokens each; the simulator never needs
//! token ids, only which tokens are *equal* (to find shared prefixes). A token is therefore a
//! pair (span, offset): span names a piece of text (a system prompt, a user question, one
//! request's output), offset the position inside it. Two tokens are equal iff both agree.
//! A [`Piece`] `{ span, start, len }` stands for the tokens (span, start), (span, start + 1),
//! ..., (span, start + len - 1).
//!
//! [`Tokens`] is a normalised list of pieces: empty pieces are dropped and adjacent pieces of
//! the same span that are contiguous are merged. Equal token sequences therefore have equal
//! piece lists (`==` compares tokens), and every operation here costs time in proportion to the
//! number of pieces, not tokens. A chat turn's next prompt is built as
//! `prev_prompt.concat(&output).concat(&user)`.

use std::cmp::Ordering;

/// One token: position `offset` of the text span `span`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token {
    /// The text span the token belongs to.
    pub span: u64,
    /// Its position inside that span.
    pub offset: u32,
}

/// A run of consecutive tokens of one span: (span, start), ..., (span, start + len - 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Piece {
    /// The text span.
    pub span: u64,
    /// Offset of the first token.
    pub start: u32,
    /// Number of tokens.
    pub len: u32,
}

impl Piece {
    /// The piece of `len` tokens of `span` starting at offset `start`.
    pub fn new(span: u64, start: u32, len: u32) -> Self {
        debug_assert!(u64::from(start) + u64::from(len) <= 1 << 32, "piece past u32 offsets");
        Self { span, start, len }
    }

    /// The token `off` places into the piece.
    #[inline]
    pub fn token(&self, off: u32) -> Token {
        Token { span: self.span, offset: self.start + off }
    }

    /// The sub-piece of `len` tokens starting `off` tokens into this one.
    #[inline]
    pub(crate) fn sub(&self, off: u32, len: u32) -> Piece {
        Piece { span: self.span, start: self.start + off, len }
    }
}

/// A position inside a piece list: piece index and offset inside that piece. The position
/// past the end is `piece == pieces.len()`, `off == 0`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub piece: usize,
    pub off: u32,
}

impl Cursor {
    /// Moves `n` tokens forward; `n` must not pass the end. Cost: pieces skipped.
    #[inline]
    pub fn advance(&mut self, pieces: &[Piece], mut n: u64) {
        while n > 0 {
            let rest = u64::from(pieces[self.piece].len - self.off);
            if n < rest {
                self.off += n as u32;
                return;
            }
            n -= rest;
            self.piece += 1;
            self.off = 0;
        }
    }

    /// The token at this position, if not at the end.
    #[inline]
    pub fn token(&self, pieces: &[Piece]) -> Option<Token> {
        pieces.get(self.piece).map(|p| p.token(self.off))
    }
}

/// Length of the common prefix of `a` from `ca` and `b` from `cb`, at most `limit` tokens.
/// Cost: pieces walked. Works on unnormalised lists too.
#[inline]
pub(crate) fn common_prefix(
    a: &[Piece],
    mut ca: Cursor,
    b: &[Piece],
    mut cb: Cursor,
    limit: u64,
) -> u64 {
    let mut n = 0u64;
    while n < limit && ca.piece < a.len() && cb.piece < b.len() {
        let (pa, pb) = (a[ca.piece], b[cb.piece]);
        if pa.span != pb.span || pa.start + ca.off != pb.start + cb.off {
            break;
        }
        let run = u64::from((pa.len - ca.off).min(pb.len - cb.off)).min(limit - n);
        n += run;
        ca.advance(a, run);
        cb.advance(b, run);
    }
    n
}

/// Appends the tokens of `pieces` from cursor `from`, `n` of them, to `out` (normalising).
pub(crate) fn copy_range(pieces: &[Piece], from: Cursor, mut n: u64, out: &mut Vec<Piece>) {
    let mut c = from;
    while n > 0 {
        let p = pieces[c.piece];
        let take = u64::from(p.len - c.off).min(n) as u32;
        push_normalised(out, p.sub(c.off, take));
        n -= u64::from(take);
        c.piece += 1;
        c.off = 0;
    }
}

/// Pushes `p` onto `out`, merging it into the last piece when contiguous.
#[inline]
fn push_normalised(out: &mut Vec<Piece>, p: Piece) {
    if p.len == 0 {
        return;
    }
    if let Some(last) = out.last_mut()
        && last.span == p.span
        && u64::from(last.start) + u64::from(last.len) == u64::from(p.start)
        && let Some(len) = last.len.checked_add(p.len)
    {
        last.len = len;
        return;
    }
    out.push(p);
}

/// A token sequence: a normalised list of [`Piece`]s and its length in tokens.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tokens {
    pieces: Vec<Piece>,
    len: u64,
}

impl Tokens {
    /// The empty sequence.
    pub fn new() -> Self {
        Self::default()
    }

    /// The `len` tokens of `span` from offset `start`.
    pub fn span(span: u64, start: u32, len: u32) -> Self {
        let mut t = Self::new();
        t.push(Piece::new(span, start, len));
        t
    }

    /// The sequence of the given pieces, normalised.
    pub fn from_pieces(pieces: impl IntoIterator<Item = Piece>) -> Self {
        let mut t = Self::new();
        for p in pieces {
            t.push(p);
        }
        t
    }

    /// Appends one piece (merged into the last one when contiguous).
    pub fn push(&mut self, p: Piece) {
        push_normalised(&mut self.pieces, p);
        self.len += u64::from(p.len);
    }

    /// Appends `len` tokens of `span` from offset `start`.
    pub fn push_span(&mut self, span: u64, start: u32, len: u32) {
        self.push(Piece::new(span, start, len));
    }

    /// Appends all tokens of `other`.
    pub fn extend(&mut self, other: &Tokens) {
        for &p in &other.pieces {
            self.push(p);
        }
    }

    /// `self` followed by `other`.
    pub fn concat(&self, other: &Tokens) -> Tokens {
        let mut t =
            Tokens { pieces: Vec::with_capacity(self.pieces.len() + other.pieces.len()), len: 0 };
        t.extend(self);
        t.extend(other);
        t
    }

    /// Number of tokens.
    #[inline]
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether there are no tokens.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The normalised pieces.
    #[inline]
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The first token, if any.
    pub fn first(&self) -> Option<Token> {
        self.pieces.first().map(|p| p.token(0))
    }

    /// The token at position `i`, if `i < len`. Cost: pieces skipped.
    pub fn get(&self, i: u64) -> Option<Token> {
        if i >= self.len {
            return None;
        }
        let mut c = Cursor::default();
        c.advance(&self.pieces, i);
        c.token(&self.pieces)
    }

    /// The first `n` tokens (all of them if `n >= len`).
    pub fn prefix(&self, n: u64) -> Tokens {
        self.slice(0, n)
    }

    /// Tokens `from..to` (clamped to the length).
    pub fn slice(&self, from: u64, to: u64) -> Tokens {
        let to = to.min(self.len);
        let from = from.min(to);
        let mut c = Cursor::default();
        c.advance(&self.pieces, from);
        let mut pieces = Vec::new();
        copy_range(&self.pieces, c, to - from, &mut pieces);
        Tokens { pieces, len: to - from }
    }

    /// Shortens the sequence to its first `n` tokens (no-op if `n >= len`).
    pub fn truncate(&mut self, n: u64) {
        if n >= self.len {
            return;
        }
        let mut c = Cursor::default();
        c.advance(&self.pieces, n);
        if c.off > 0 {
            self.pieces[c.piece].len = c.off;
            self.pieces.truncate(c.piece + 1);
        } else {
            self.pieces.truncate(c.piece);
        }
        self.len = n;
    }

    /// Length of the common prefix of `self` and `other`, in time proportional to their
    /// number of pieces.
    pub fn common_prefix_len(&self, other: &Tokens) -> u64 {
        common_prefix(&self.pieces, Cursor::default(), &other.pieces, Cursor::default(), u64::MAX)
    }

    /// Lexicographic order of the token sequences (tokens ordered by (span, offset); a proper
    /// prefix comes first). Lexicographic order over a set of sequences visits their trie
    /// depth-first. Cost: pieces walked.
    pub fn cmp_lex(&self, other: &Tokens) -> Ordering {
        let l = self.common_prefix_len(other);
        match (self.get(l), other.get(l)) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => self.len.cmp(&other.len),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_measures() {
        let t = Tokens::from_pieces([
            Piece::new(1, 0, 4),
            Piece::new(1, 4, 2),
            Piece::new(2, 0, 0),
            Piece::new(1, 7, 1),
        ]);
        assert_eq!(t.pieces(), &[Piece::new(1, 0, 6), Piece::new(1, 7, 1)]);
        assert_eq!(t.len(), 7);
        assert_eq!(t.get(6), Some(Token { span: 1, offset: 7 }));
        assert_eq!(t.get(7), None);
    }

    #[test]
    fn slices_concatenates_and_truncates() {
        let sys = Tokens::span(0, 0, 2048);
        let q = Tokens::span(7, 0, 128);
        let p = sys.concat(&q);
        assert_eq!(p.len(), 2176);
        assert_eq!(p.prefix(2000), Tokens::span(0, 0, 2000));
        assert_eq!(
            p.slice(2040, 2050),
            Tokens::from_pieces([Piece::new(0, 2040, 8), Piece::new(7, 0, 2)])
        );
        // Re-joining the halves of a split piece gives the original, normalised.
        assert_eq!(p.prefix(100).concat(&p.slice(100, 5000)), p);
        let mut t = p.clone();
        t.truncate(2050);
        assert_eq!(t, p.prefix(2050));
        t.truncate(2048);
        assert_eq!(t, sys);
    }

    #[test]
    fn common_prefix_is_token_level() {
        let a = Tokens::span(0, 0, 2048).concat(&Tokens::span(1, 0, 128));
        let b = Tokens::span(0, 0, 2048).concat(&Tokens::span(2, 0, 128));
        assert_eq!(a.common_prefix_len(&b), 2048);
        // Same tokens, different piece boundaries in the unnormalised input.
        let c = Tokens::from_pieces([Piece::new(0, 0, 1000), Piece::new(0, 1000, 1048)]);
        assert_eq!(a.common_prefix_len(&c), 2048);
        assert_eq!(Tokens::span(0, 5, 10).common_prefix_len(&Tokens::span(0, 6, 10)), 0);
        assert_eq!(a.cmp_lex(&b), Ordering::Less);
        assert_eq!(a.prefix(10).cmp_lex(&a), Ordering::Less);
        assert_eq!(a.cmp_lex(&a.clone()), Ordering::Equal);
    }
}
