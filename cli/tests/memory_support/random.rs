//! A random dataset for the accuracy test: keys of every type with sizes around the
//! encoding limits (listpack entries and values, intsets, embedded strings, quicklist
//! nodes, stream nodes), long key names, TTLs, and where the server has them, hash field
//! TTLs. Deterministic for a seed.

/// splitmix64.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// Text of `len` bytes: digits (sometimes a valid integer) or letters.
    pub fn text(&mut self, len: usize) -> String {
        if self.chance(0.2) && len > 0 {
            let digits = 1 + self.below(18) as u32;
            let v = (self.next() % 10u64.pow(digits)) as i64 - if self.chance(0.3) { 10i64.pow(digits) } else { 0 };
            return v.to_string().chars().take(len).collect();
        }
        const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789:_-";
        (0..len).map(|_| char::from(CHARS[self.below(CHARS.len() as u64) as usize])).collect()
    }
}

/// Fills the server behind `conn` with `n` keys in db 0.
pub fn fill(conn: &mut redis::Connection, n: usize, seed: u64, field_ttls: bool) -> redis::RedisResult<()> {
    let mut r = Rng::new(seed);
    let mut pipe = redis::pipe();
    for i in 0..n {
        let kind = r.pick(&["s", "s", "s", "h", "h", "set", "z", "l", "x"]);
        let key = format!("{kind}:{i}:{}", "k".repeat(r.pick(&[0, 0, 0, 1, 5, 20, 60, 130])));
        match kind {
            "s" => {
                let len = r.pick(&[0, 1, 2, 5, 10, 20, 40, 44, 45, 50, 63, 64, 65, 100, 200, 300, 1000, 5000, 20000]);
                pipe.cmd("SET").arg(&key).arg(r.text(len));
            }
            "h" => {
                let fields = r.pick(&[1, 2, 5, 10, 50, 100, 300, 511, 513, 700]);
                let long = r.chance(0.4);
                let c = pipe.cmd("HSET").arg(&key);
                for j in 0..fields {
                    let len =
                        if long && r.chance(0.05) { r.pick(&[65, 100, 500, 3000]) } else { r.pick(&[1, 5, 20, 64]) };
                    c.arg(format!("f{j}{}", "x".repeat(r.pick(&[0, 3, 30])))).arg(r.text(len));
                }
                if field_ttls && r.chance(0.3) {
                    let m = 1 + r.below(fields as u64) as usize;
                    let c = pipe.cmd("HPEXPIRE").arg(&key).arg(100_000_000).arg("FIELDS").arg(m);
                    for j in 0..m {
                        c.arg(format!("f{j}"));
                    }
                }
            }
            "set" => {
                let members = r.pick(&[1, 3, 10, 100, 128, 129, 200, 512, 513, 1000]);
                let ints = r.chance(0.5);
                let c = pipe.cmd("SADD").arg(&key);
                for j in 0..members {
                    if ints {
                        c.arg((j as i64 * 7919 - 3_000_000) * r.pick(&[1, 1000, 1_000_000_007]));
                    } else {
                        let len = r.pick(&[1, 5, 20, 64, 65, 100]);
                        c.arg(format!("{j}:{}", r.text(len)));
                    }
                }
            }
            "z" => {
                let members = r.pick(&[1, 5, 50, 128, 129, 300]);
                let c = pipe.cmd("ZADD").arg(&key);
                for j in 0..members {
                    let score = match r.below(3) {
                        0 => (r.below(2001) as f64) - 1000.0,
                        1 => r.next() as f64 / u64::MAX as f64 * 1000.0,
                        _ => (r.next() as f64 / u64::MAX as f64 - 0.5) * 2e10,
                    };
                    let len = r.pick(&[1, 10, 60, 70, 200]);
                    c.arg(score).arg(format!("m{j}{}", r.text(len)));
                }
            }
            "l" => {
                let items: usize = r.pick(&[1, 5, 50, 128, 500, 3000]);
                let big: &[usize] = if r.chance(0.2) { &[1, 5, 20, 100, 5000, 9000] } else { &[1, 5, 20, 100] };
                for chunk in 0..items.div_ceil(500) {
                    let c = pipe.cmd("RPUSH").arg(&key);
                    for _ in (chunk * 500)..items.min((chunk + 1) * 500) {
                        let len = r.pick(big);
                        c.arg(r.text(len));
                    }
                }
            }
            _ => {
                let entries = r.pick(&[1, 5, 100, 250, 1000]);
                for _ in 0..entries {
                    let c = pipe.cmd("XADD").arg(&key).arg("*");
                    if r.chance(0.7) {
                        c.arg("a").arg(r.text(5));
                    } else {
                        let len = r.pick(&[5, 300]);
                        c.arg("b").arg(r.text(len)).arg("c").arg("1");
                    }
                }
                if r.chance(0.5) {
                    pipe.cmd("XGROUP").arg("CREATE").arg(&key).arg("g1").arg("0");
                    let consumer = format!("c{}", "x".repeat(r.below(30) as usize));
                    let count = 1 + r.below(50);
                    let c = pipe.cmd("XREADGROUP").arg("GROUP").arg("g1").arg(consumer);
                    c.arg("COUNT").arg(count).arg("STREAMS").arg(&key).arg(">");
                }
            }
        }
        if r.chance(0.3) {
            pipe.cmd("PEXPIRE").arg(&key).arg(1_000_000 + r.below(10_000_000_000));
        }
        if i % 50 == 49 || i + 1 == n {
            pipe.query::<()>(conn)?;
            pipe.clear();
        }
    }
    Ok(())
}
