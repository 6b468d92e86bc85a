//! The rolling hash of restic's content-defined chunker: a Rabin fingerprint of the last
//! 64 bytes, modulo the repository's irreducible polynomial of degree 53. A chunk ends
//! where the fingerprint's low bits are zero, so the same data cuts into the same chunks
//! wherever it sits in a file, and stock restic deduplicates against what Reprise wrote.
//!
//! This crate stands in for `rustic_cdc` (the workspace patches it in) and offers the
//! part of its interface the engine library uses. The difference is cost: the engine
//! library builds a fresh hash for every file it reads, and computing the two lookup
//! tables takes a few hundred microseconds — a fifth of the CPU time of a first backup of
//! many small files. Here they are computed once per polynomial and copied thereafter.
//!
//! The fingerprint is defined by the arithmetic, not by the code: the hash after sliding
//! a byte in is the window's bytes read as a polynomial over GF(2), reduced modulo the
//! chunker polynomial. The tests check that definition byte by byte.

use std::sync::Mutex;

/// A polynomial over GF(2): bit `i` is the coefficient of `x^i`.
pub type Polynom64 = u64;

/// Polynomial arithmetic over GF(2).
pub trait Polynom {
    /// The degree: the highest set bit, -1 for the zero polynomial.
    fn degree(&self) -> i32;

    /// The remainder of the division by `m`.
    #[must_use]
    fn modulo(&self, m: &Self) -> Self;
}

impl Polynom for Polynom64 {
    fn degree(&self) -> i32 {
        63 - self.leading_zeros() as i32
    }

    fn modulo(&self, m: &Self) -> Self {
        let divisor = m.degree();
        let mut rest = *self;
        loop {
            let degree = rest.degree();
            if degree < divisor {
                return rest;
            }
            rest ^= m << (degree - divisor);
        }
    }
}

/// A hash over a sliding window of bytes.
pub trait RollingHash64 {
    /// Empties the window.
    fn reset(&mut self);

    /// Slides in up to one byte less than the window's size; returns how many it took.
    fn prefill_window<I>(&mut self, iter: &mut I) -> usize
    where
        I: Iterator<Item = u8>;

    /// [`reset`](Self::reset) followed by [`prefill_window`](Self::prefill_window).
    fn reset_and_prefill_window<I>(&mut self, iter: &mut I) -> usize
    where
        I: Iterator<Item = u8>;

    /// Slides `byte` into the window, and the window's oldest byte out.
    fn slide(&mut self, byte: u8);

    /// The fingerprint of the window.
    fn get_hash(&self) -> &Polynom64;
}

/// The largest window: 2^6 = 64 bytes, restic's.
const MAX_WINDOW_BITS: u32 = 6;
const MAX_WINDOW: usize = 1 << MAX_WINDOW_BITS;

/// What a polynomial and a window size fix once and for all.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tables {
    /// `out[b]`: the fingerprint of byte `b` followed by `window − 1` zero bytes — what
    /// `b` contributes when it is the oldest byte, cancelled as it leaves.
    out: [Polynom64; 256],
    /// `reduce[t]`: what to add after shifting a byte in, when the 8 bits pushed past the
    /// polynomial's degree are `t`: they cancel themselves and leave their remainder.
    reduce: [Polynom64; 256],
}

impl Tables {
    fn compute(window: usize, poly: Polynom64) -> Tables {
        let degree = poly.degree();
        let mut out = [0; 256];
        let mut reduce = [0; 256];
        for byte in 0..256u64 {
            let mut hash = byte.modulo(&poly);
            for _ in 1..window {
                hash = (hash << 8).modulo(&poly);
            }
            out[byte as usize] = hash;
            let overflow = byte << degree;
            reduce[byte as usize] = overflow.modulo(&poly) | overflow;
        }
        Tables { out, reduce }
    }

    /// The tables for this window and polynomial, computed on first use.
    fn cached(window: usize, poly: Polynom64) -> Tables {
        static CACHE: Mutex<Vec<(usize, Polynom64, Tables)>> = Mutex::new(Vec::new());
        let mut cache = CACHE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, _, tables)) = cache.iter().find(|(w, p, _)| (*w, *p) == (window, poly)) {
            return tables.clone();
        }
        let tables = Tables::compute(window, poly);
        cache.push((window, poly, tables.clone()));
        tables
    }
}

/// Restic's chunker hash over a window of `2^bits` bytes (restic uses 64).
#[derive(Debug, Clone)]
pub struct Rabin64 {
    tables: Tables,
    /// `degree − 8`: where the byte that overflows the degree on the next shift sits.
    shift: u32,
    window: [u8; MAX_WINDOW],
    mask: usize,
    position: usize,
    /// The fingerprint of the window.
    pub hash: Polynom64,
}

impl Rabin64 {
    /// A hash over `2^window_size_nb_bits` bytes modulo `mod_polynom`, an irreducible
    /// polynomial of degree 8 to 56 (the hash, shifted by a byte, stays within 64 bits;
    /// restic's are of degree 53).
    ///
    /// # Panics
    /// If the window is larger than 64 bytes or the polynomial's degree is out of range.
    #[must_use]
    pub fn new_with_polynom(window_size_nb_bits: u32, mod_polynom: &Polynom64) -> Self {
        assert!(
            window_size_nb_bits <= MAX_WINDOW_BITS,
            "a Rabin window holds at most {MAX_WINDOW} bytes"
        );
        let degree = mod_polynom.degree();
        assert!(
            (8..=56).contains(&degree),
            "a Rabin polynomial has a degree from 8 to 56, not {degree}"
        );
        let size = 1 << window_size_nb_bits;
        Self {
            tables: Tables::cached(size, *mod_polynom),
            shift: (degree - 8) as u32,
            window: [0; MAX_WINDOW],
            mask: size - 1,
            position: 0,
            hash: 0,
        }
    }

    /// Shifts `byte` in, without taking anything out.
    #[inline]
    fn append(&mut self, byte: u8) {
        let overflow = (self.hash >> self.shift) as u8;
        self.hash =
            ((self.hash << 8) | Polynom64::from(byte)) ^ self.tables.reduce[usize::from(overflow)];
    }
}

impl RollingHash64 for Rabin64 {
    fn reset(&mut self) {
        self.window = [0; MAX_WINDOW];
        self.position = 0;
        self.hash = 0;
    }

    fn prefill_window<I>(&mut self, iter: &mut I) -> usize
    where
        I: Iterator<Item = u8>,
    {
        iter.take(self.mask).map(|byte| self.slide(byte)).count()
    }

    fn reset_and_prefill_window<I>(&mut self, iter: &mut I) -> usize
    where
        I: Iterator<Item = u8>,
    {
        self.reset();
        self.prefill_window(iter)
    }

    #[inline]
    fn slide(&mut self, byte: u8) {
        let slot = self.position & self.mask;
        let oldest = std::mem::replace(&mut self.window[slot], byte);
        self.hash ^= self.tables.out[usize::from(oldest)];
        self.append(byte);
        self.position = slot + 1;
    }

    fn get_hash(&self) -> &Polynom64 {
        &self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Restic's default chunker polynomial, and one from a repository made by Reprise.
    const POLYS: [Polynom64; 2] = [0x003D_A335_8B4D_C173, 0x0020_2fa4_8c22_5a4b];

    /// The definition: the bytes as one polynomial, reduced modulo `poly`.
    fn fingerprint(bytes: &[u8], poly: Polynom64) -> Polynom64 {
        bytes.iter().fold(0, |hash, &b| {
            ((hash << 8) | Polynom64::from(b)).modulo(&poly)
        })
    }

    /// Deterministic bytes that exercise every table entry.
    fn bytes(n: usize) -> Vec<u8> {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 56) as u8
            })
            .collect()
    }

    #[test]
    fn degree_and_remainder_follow_gf2_arithmetic() {
        assert_eq!(0u64.degree(), -1);
        assert_eq!(1u64.degree(), 0);
        assert_eq!(0x80u64.degree(), 7);
        // x^2 + x + 1 = (x + 1)·x + 1
        assert_eq!(7u64.modulo(&3), 1);
        assert_eq!(16u64.modulo(&8), 0);
        assert_eq!(19u64.modulo(&8), 3);
        assert_eq!(5u64.modulo(&7), 5 ^ 7);
    }

    #[test]
    fn sliding_hash_is_the_fingerprint_of_the_window() {
        for poly in POLYS {
            for bits in [3, 6] {
                let window = 1usize << bits;
                let data = bytes(3000);
                let mut rabin = Rabin64::new_with_polynom(bits, &poly);
                for (i, &b) in data.iter().enumerate() {
                    rabin.slide(b);
                    let start = (i + 1).saturating_sub(window);
                    assert_eq!(
                        rabin.hash,
                        fingerprint(&data[start..=i], poly),
                        "byte {i}, window {window}"
                    );
                }
            }
        }
    }

    #[test]
    fn prefill_takes_one_byte_less_than_the_window_and_restarts_clean() {
        let poly = POLYS[0];
        let data = bytes(500);
        let mut rabin = Rabin64::new_with_polynom(6, &poly);
        data[..100].iter().for_each(|&b| rabin.slide(b));

        let taken = rabin.reset_and_prefill_window(&mut data[200..].iter().copied());
        assert_eq!(taken, 63);
        assert_eq!(rabin.hash, fingerprint(&data[200..263], poly));
        // The next bytes slide through a window holding exactly those 63 bytes.
        for i in 263..400 {
            rabin.slide(data[i]);
            assert_eq!(rabin.hash, fingerprint(&data[i - 63..=i], poly));
        }
        // A short input fills what it can.
        assert_eq!(
            rabin.reset_and_prefill_window(&mut data[..10].iter().copied()),
            10
        );
        assert_eq!(rabin.hash, fingerprint(&data[..10], poly));
    }

    #[test]
    fn tables_are_computed_once_and_shared() {
        let poly = POLYS[1];
        let first = Rabin64::new_with_polynom(6, &poly);
        let again = Rabin64::new_with_polynom(6, &poly);
        assert_eq!(first.tables, again.tables);
        assert_eq!(first.tables, Tables::compute(64, poly));
        assert_ne!(first.tables, Rabin64::new_with_polynom(6, &POLYS[0]).tables);
    }
}
