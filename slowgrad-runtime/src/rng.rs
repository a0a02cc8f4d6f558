//! A small seeded random number generator (SplitMix64) for initialisation, dropout and shuffling.
//!
//! It is self-contained so that a seed gives the same numbers on every platform and with every
//! version of every dependency.

/// A seeded SplitMix64 generator.
///
/// ```
/// use slowgrad::Rng;
/// let mut a = Rng::new(7);
/// let mut b = Rng::new(7);
/// assert_eq!(a.next_u64(), b.next_u64());
/// let u = a.uniform(-1.0, 1.0);
/// assert!((-1.0..1.0).contains(&u));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator started from `seed`: the same seed gives the same numbers.
    ///
    /// ```
    /// use slowgrad::Rng;
    /// let draw = |seed| {
    ///     let mut r = Rng::new(seed);
    ///     [r.next_u64(), r.next_u64()]
    /// };
    /// assert_eq!(draw(42), draw(42));
    /// assert_ne!(draw(42), draw(43));
    /// ```
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// The next 64 random bits: SplitMix64's output, the same on every platform.
    ///
    /// ```
    /// use slowgrad::Rng;
    /// // SplitMix64's published first outputs for seed 0
    /// let mut r = Rng::new(0);
    /// assert_eq!(r.next_u64(), 0xe220_a839_7b1d_cdaf);
    /// assert_eq!(r.next_u64(), 0x6e78_9e6a_a1b9_65f4);
    /// ```
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform number in `[0, 1)` with 53 random bits.
    ///
    /// ```
    /// use slowgrad::Rng;
    /// let mut r = Rng::new(1);
    /// let xs: Vec<f64> = (0..10_000).map(|_| r.next_f64()).collect();
    /// assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
    /// let mean = xs.iter().sum::<f64>() / 10_000.0;
    /// assert!((mean - 0.5).abs() < 0.02);
    /// // the top 53 bits of the next u64, scaled by 2⁻⁵³
    /// let (mut a, mut b) = (Rng::new(9), Rng::new(9));
    /// assert_eq!(a.next_f64(), (b.next_u64() >> 11) as f64 / 2f64.powi(53));
    /// ```
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform number in `[lo, hi)`.
    ///
    /// ```
    /// use slowgrad::Rng;
    /// let mut r = Rng::new(1);
    /// let xs: Vec<f64> = (0..10_000).map(|_| r.uniform(-3.0, 5.0)).collect();
    /// assert!(xs.iter().all(|x| (-3.0..5.0).contains(x)));
    /// let mean = xs.iter().sum::<f64>() / 10_000.0;
    /// assert!((mean - 1.0).abs() < 0.1);
    /// ```
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next_f64()
    }

    /// A standard normal number (Box-Muller).
    ///
    /// ```
    /// use slowgrad::Rng;
    /// let mut r = Rng::new(1);
    /// let xs: Vec<f64> = (0..10_000).map(|_| r.normal()).collect();
    /// let mean = xs.iter().sum::<f64>() / 10_000.0;
    /// let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 10_000.0;
    /// assert!(mean.abs() < 0.05 && (var - 1.0).abs() < 0.05);
    /// // about 68 % within one standard deviation
    /// let within = xs.iter().filter(|x| x.abs() < 1.0).count() as f64 / 10_000.0;
    /// assert!((within - 0.6827).abs() < 0.02);
    /// ```
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64(); // in (0, 1]
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// A uniform integer in `0..n`.
    ///
    /// **Panics** if `n` is 0.
    ///
    /// ```
    /// use slowgrad::Rng;
    /// let mut r = Rng::new(1);
    /// let mut counts = [0usize; 6];
    /// for _ in 0..6000 {
    ///     counts[r.below(6)] += 1; // always in 0..6
    /// }
    /// assert!(counts.iter().all(|&c| (900..1100).contains(&c)));
    /// assert_eq!(r.below(1), 0);
    /// ```
    #[track_caller]
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::below needs n > 0");
        // multiply-shift: bias below 2^-64 * n, negligible for the sizes used here
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Shuffles `items` in place (Fisher-Yates): every order is equally likely.
    ///
    /// ```
    /// use slowgrad::Rng;
    /// let mut items: Vec<u32> = (0..20).collect();
    /// Rng::new(3).shuffle(&mut items);
    /// assert_ne!(items, (0..20).collect::<Vec<_>>());
    /// // a permutation: the same elements
    /// let mut sorted = items.clone();
    /// sorted.sort();
    /// assert_eq!(sorted, (0..20).collect::<Vec<_>>());
    /// // the same seed, the same order
    /// let mut again: Vec<u32> = (0..20).collect();
    /// Rng::new(3).shuffle(&mut again);
    /// assert_eq!(again, items);
    /// ```
    pub fn shuffle<X>(&mut self, items: &mut [X]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    /// An independent generator derived from this one (for a layer or a data loader); the
    /// parent moves on by one draw.
    ///
    /// ```
    /// use slowgrad::Rng;
    /// let mut parent = Rng::new(5);
    /// let mut child = parent.fork();
    /// assert_ne!(child.next_u64(), parent.next_u64());
    /// // forks of equal parents are equal
    /// let (mut a, mut b) = (Rng::new(5), Rng::new(5));
    /// assert_eq!(a.fork(), b.fork());
    /// // the child is seeded with the parent's next draw
    /// assert_eq!(Rng::new(5).fork(), Rng::new(Rng::new(5).next_u64()));
    /// ```
    pub fn fork(&mut self) -> Rng {
        Rng::new(self.next_u64())
    }
}
