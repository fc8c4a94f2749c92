//! Misbehaving on purpose, for people who load-test proxies: `--delay` holds each
//! answer for a while, `--fail-rate` swaps some answers for an injected error.
//!
//! Both are off by default, and the plain path pays one branch on a setting
//! ([`Faults::on`]) per answer.
//!
//! The random choices (a delay in `MIN..MAX`, whether an answer fails) come from
//! [`Rng`], a xorshift64* generator: a few lines, no dependency, seeded from
//! `--seed` so that a run can be repeated answer for answer. It is not for
//! anything secret; it only has to be fast and evenly spread.

use super::Status;

/// `--delay`: how long each answer is held, in milliseconds, chosen uniformly in
/// `min..=max` for each request (`min == max` for a fixed delay).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delay {
    /// Shortest delay, ms.
    pub min: u64,
    /// Longest delay, ms.
    pub max: u64,
}

/// What the core is told about faults to inject (part of [`Settings`](super::Settings)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultSettings {
    /// Hold every answer this long after its request's head was complete.
    pub delay: Option<Delay>,
    /// The fraction of answers, 0.0 to 1.0, replaced by the injected failure.
    pub fail_rate: f64,
    /// The status of the injected failure.
    pub fail_status: Status,
    /// The seed of the generator that makes the random choices.
    pub seed: u64,
}

impl FaultSettings {
    /// No faults: every answer at once, none failed.
    pub const NONE: FaultSettings = FaultSettings {
        delay: None,
        fail_rate: 0.0,
        fail_status: Status::SERVICE_UNAVAILABLE,
        seed: 0,
    };
}

/// The faults in force for one driver, and the generator that picks them.
#[derive(Debug, Clone)]
pub struct Faults {
    /// Any fault is on: the one branch the plain path pays.
    pub on: bool,
    /// `--delay`, if set.
    pub delay: Option<Delay>,
    /// An answer fails when a random `u64` falls below this; 0: never.
    pub fail_threshold: u64,
    rng: Rng,
}

impl Faults {
    /// For `settings`.
    pub fn new(settings: &FaultSettings) -> Faults {
        let rate = settings.fail_rate.clamp(0.0, 1.0);
        let fail_threshold = if rate >= 1.0 {
            u64::MAX
        } else {
            (rate * u64::MAX as f64) as u64
        };
        Faults {
            on: settings.delay.is_some() || fail_threshold > 0,
            delay: settings.delay,
            fail_threshold,
            rng: Rng::new(settings.seed),
        }
    }

    /// Make this the generator of worker `n` of several: each worker draws its own
    /// stream, still fixed by `--seed` (with one seed, the workers would make the
    /// same choices in step, and two workers' delays would come in pairs).
    pub fn for_worker(&mut self, n: u16) {
        self.rng = Rng::new(self.rng.next_u64().wrapping_add(u64::from(n)));
    }

    /// Whether this answer is to fail: never without `--fail-rate` (and then no
    /// number is drawn), always at a rate of 1, else by a draw.
    pub fn fail_now(&mut self) -> bool {
        match self.fail_threshold {
            0 => false,
            u64::MAX => true,
            threshold => self.rng.next_u64() < threshold,
        }
    }

    /// The delay for one answer, in `delay.min..=delay.max`.
    pub fn pick(&mut self, delay: Delay) -> u64 {
        match delay.max - delay.min {
            0 => delay.min,
            span => delay.min + self.rng.next_u64() % (span + 1),
        }
    }
}

/// xorshift64* (Vigna, 2016): 64 bits of state, three shifts and a multiply per
/// number.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed` (any value: zero, the one state xorshift
    /// cannot leave, is mapped to another).
    pub fn new(seed: u64) -> Rng {
        // splitmix64's finaliser spreads nearby seeds (0, 1, 2, ...) apart.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 1 } else { z })
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_repeats_its_choices_and_the_rate_holds() {
        let settings = FaultSettings {
            fail_rate: 0.2,
            seed: 7,
            ..FaultSettings::NONE
        };
        let (mut a, mut b) = (Faults::new(&settings), Faults::new(&settings));
        let runs: Vec<bool> = (0..10_000).map(|_| a.fail_now()).collect();
        assert!(
            runs.iter()
                .zip((0..).map(|_| b.fail_now()))
                .all(|(x, y)| *x == y)
        );
        let failed = runs.iter().filter(|f| **f).count();
        assert!((1_800..2_200).contains(&failed), "{failed} of 10000 at 0.2");
        let all = Faults::new(&FaultSettings {
            fail_rate: 1.0,
            ..settings
        });
        assert_eq!(all.fail_threshold, u64::MAX);
        assert_eq!(Faults::new(&FaultSettings::NONE).fail_threshold, 0);
    }

    #[test]
    fn workers_draw_their_own_choices_from_one_seed() {
        let settings = FaultSettings {
            fail_rate: 0.5,
            seed: 7,
            ..FaultSettings::NONE
        };
        let draws = |worker: u16| {
            let mut faults = Faults::new(&settings);
            faults.for_worker(worker);
            (0..64).map(|_| faults.fail_now()).collect::<Vec<bool>>()
        };
        assert_eq!(draws(1), draws(1), "one seed and worker, one stream");
        assert_ne!(draws(0), draws(1), "two workers, two streams");
    }

    #[test]
    fn delays_stay_in_their_range() {
        let mut faults = Faults::new(&FaultSettings::NONE);
        let delay = Delay { min: 50, max: 150 };
        let picks: Vec<u64> = (0..10_000).map(|_| faults.pick(delay)).collect();
        assert!(picks.iter().all(|d| (50..=150).contains(d)));
        assert!(picks.contains(&50) && picks.contains(&150));
        assert_eq!(faults.pick(Delay { min: 100, max: 100 }), 100);
    }
}
