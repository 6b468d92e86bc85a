//! A small mutation fuzzer that runs on stable Rust, for a bounded time: it takes valid
//! seed inputs, mutates them (bit flips, byte and token insertions, deletions, splices,
//! repetition), and hands each result to a check. Deterministic for a given seed, so a
//! failure can be replayed; the seed is printed.

use std::time::{Duration, Instant};

/// How long a fuzz test runs: `REPRISE_FUZZ_SECONDS`, else `default`.
pub fn budget(default: u64) -> Duration {
    Duration::from_secs(
        std::env::var("REPRISE_FUZZ_SECONDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default),
    )
}

/// The seed of this run: `REPRISE_FUZZ_SEED` to replay one, else from the clock.
pub fn seed() -> u64 {
    std::env::var("REPRISE_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
                | 1
        })
}

pub struct Mutator {
    state: u64,
    /// Fragments that make parsers take other paths.
    tokens: Vec<&'static [u8]>,
}

impl Mutator {
    pub fn new(seed: u64) -> Self {
        Self {
            state: seed.max(1),
            tokens: vec![
                b"\"",
                b"'",
                b"[",
                b"]",
                b"{",
                b"}",
                b"=",
                b",",
                b";",
                b":",
                b"\n",
                b"\r\n",
                b"\\",
                b"\\u0000",
                b"\0",
                b"[[asset]]",
                b"[[asset.dataset]]",
                b"null",
                b"true",
                b"-1",
                b"99999999999999999999",
                b"1e308",
                b"NaN",
                b"\xff\xfe",
                b"\xc3\xa9",
                b"../",
                b"/",
                b"%",
                b"${",
                b"#",
                b"\t",
                b"0x",
                b"2026-02-30",
                b"24:61",
                b"tenant:",
                b"site:",
                b"\xe2\x80\xae",
            ],
        }
    }

    /// xorshift64*.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// One to eight mutations of `input`, sometimes spliced with `other`.
    pub fn mutate(&mut self, input: &[u8], other: &[u8]) -> Vec<u8> {
        let mut out = input.to_vec();
        for _ in 0..1 + self.below(8) {
            let at = self.below(out.len() + 1);
            match self.below(8) {
                0 if !out.is_empty() => {
                    let i = self.below(out.len());
                    out[i] ^= 1 << self.below(8);
                }
                1 if !out.is_empty() => {
                    let end = (at + 1 + self.below(16)).min(out.len());
                    out.drain(at.min(end)..end);
                }
                2 => {
                    let i = self.below(self.tokens.len());
                    let t = self.tokens[i];
                    out.splice(at..at, t.iter().copied());
                }
                3 => {
                    let b = self.next_u64() as u8;
                    out.insert(at, b);
                }
                4 if !other.is_empty() => {
                    let from = self.below(other.len());
                    let len = self.below(other.len() - from + 1);
                    out.splice(at..at, other[from..from + len].iter().copied());
                }
                5 if !out.is_empty() => {
                    // Repeat a slice: deep nesting, long lines.
                    let start = self.below(out.len());
                    let end = (start + 1 + self.below(32)).min(out.len());
                    let piece = out[start..end].to_vec();
                    for _ in 0..self.below(64) {
                        out.splice(at..at, piece.iter().copied());
                    }
                }
                6 if !out.is_empty() => out.truncate(at),
                _ => {
                    let i = self.below(self.tokens.len());
                    let t = self.tokens[i];
                    out.extend_from_slice(t);
                }
            }
        }
        out
    }
}

/// Feeds mutations of `seeds` to `check` until the budget is spent. A panic in `check`
/// fails the test with the input that caused it; so does an input that takes longer than
/// `slow`. Returns how many inputs were tried.
pub fn run(
    name: &str,
    seeds: &[Vec<u8>],
    budget: Duration,
    slow: Duration,
    mut check: impl FnMut(&[u8]),
) -> u64 {
    let seed = seed();
    let mut m = Mutator::new(seed);
    let started = Instant::now();
    let mut tried = 0u64;
    while started.elapsed() < budget {
        let a = &seeds[m.below(seeds.len())];
        let b = &seeds[m.below(seeds.len())];
        let input = m.mutate(a, b);
        let clock = Instant::now();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&input)));
        let took = clock.elapsed();
        let shown = String::from_utf8_lossy(&input[..input.len().min(2000)]).to_string();
        if outcome.is_err() {
            panic!("{name}: panicked on this input (REPRISE_FUZZ_SEED={seed}):\n{shown:?}");
        }
        assert!(
            took <= slow,
            "{name}: took {took:?} on this input (REPRISE_FUZZ_SEED={seed}):\n{shown:?}"
        );
        tried += 1;
    }
    eprintln!(
        "{name}: {tried} inputs in {:?}, no crash (seed {seed})",
        started.elapsed()
    );
    tried
}
