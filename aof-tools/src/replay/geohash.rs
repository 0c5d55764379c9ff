//! The servers' geohash arithmetic (Redis `geohash.c` / `geohash_helper.c` semantics):
//! 52-bit interleaved scores, the 3×3 boxes a search scans, and the distances it keeps.
//! Every step is the same floating-point operation in the same order, so the members a
//! search stores are the server's.

/// Bits per coordinate of a stored score (26 × 2 = 52).
pub const STEP_MAX: u8 = 26;
/// Latitudes servers accept (EPSG:900913).
pub const LAT_MIN: f64 = -85.05112878;
/// See [`LAT_MIN`].
pub const LAT_MAX: f64 = 85.05112878;
/// Longitudes servers accept.
pub const LONG_MIN: f64 = -180.0;
/// See [`LONG_MIN`].
pub const LONG_MAX: f64 = 180.0;
const EARTH_RADIUS_M: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;
const D_R: f64 = std::f64::consts::PI / 180.0;

/// A cell: `step` bits per coordinate, interleaved (latitude in the even bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    /// Interleaved bits.
    pub bits: u64,
    /// Bits per coordinate; 0 with `bits` 0 is "no cell".
    pub step: u8,
}

impl Cell {
    const NONE: Cell = Cell { bits: 0, step: 0 };

    fn is_none(self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The sorted-set score range `[min, max)` of the cell's members.
    pub fn score_range(self) -> (f64, f64) {
        let shift = 52 - 2 * u32::from(self.step);
        ((self.bits << shift) as f64, ((self.bits + 1) << shift) as f64)
    }
}

/// A cell's extent in degrees.
#[derive(Debug, Clone, Copy)]
struct Area {
    lat: (f64, f64),
    long: (f64, f64),
}

fn spread(v: u32) -> u64 {
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

fn squeeze(v: u64) -> u32 {
    let mut x = v & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x >> 16)) & 0x0000_0000_FFFF_FFFF;
    x as u32
}

/// True when the pair is inside the servers' bounds.
pub fn valid(long: f64, lat: f64) -> bool {
    (LONG_MIN..=LONG_MAX).contains(&long) && (LAT_MIN..=LAT_MAX).contains(&lat)
}

/// The cell of a (valid) point at `step` bits per coordinate.
pub fn encode(long: f64, lat: f64, step: u8) -> Cell {
    let scale = (1u64 << step) as f64;
    let lat_offset = (lat - LAT_MIN) / (LAT_MAX - LAT_MIN) * scale;
    let long_offset = (long - LONG_MIN) / (LONG_MAX - LONG_MIN) * scale;
    // C converts the doubles to uint32_t (truncation).
    Cell { bits: spread(lat_offset as u32) | (spread(long_offset as u32) << 1), step }
}

/// The score GEOADD gives a point.
pub fn score(long: f64, lat: f64) -> f64 {
    encode(long, lat, STEP_MAX).bits as f64
}

fn area(c: Cell) -> Area {
    let scale = (1u64 << c.step) as f64;
    let (ilat, ilong) = (f64::from(squeeze(c.bits)), f64::from(squeeze(c.bits >> 1)));
    let (lat_span, long_span) = (LAT_MAX - LAT_MIN, LONG_MAX - LONG_MIN);
    Area {
        lat: (LAT_MIN + (ilat * 1.0 / scale) * lat_span, LAT_MIN + ((ilat + 1.0) * 1.0 / scale) * lat_span),
        long: (LONG_MIN + (ilong * 1.0 / scale) * long_span, LONG_MIN + ((ilong + 1.0) * 1.0 / scale) * long_span),
    }
}

/// The point a stored score stands for: the centre of its cell.
pub fn decode(score: f64) -> (f64, f64) {
    let a = area(Cell { bits: score as u64, step: STEP_MAX });
    let long = ((a.long.0 + a.long.1) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((a.lat.0 + a.lat.1) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (long, lat)
}

/// Moves along the odd (longitude, `x`) or even (latitude, `y`) bits by one cell.
fn shift(c: Cell, odd: bool, up: bool) -> Cell {
    let (mine, other) = if odd {
        (0xAAAA_AAAA_AAAA_AAAAu64, 0x5555_5555_5555_5555u64)
    } else {
        (0x5555_5555_5555_5555u64, 0xAAAA_AAAA_AAAA_AAAAu64)
    };
    let width = 64 - 2 * u32::from(c.step);
    let mut v = c.bits & mine;
    let keep = c.bits & other;
    let zz = other >> width;
    if up {
        v = v.wrapping_add(zz.wrapping_add(1));
    } else {
        v |= zz;
        v = v.wrapping_sub(zz.wrapping_add(1));
    }
    v &= mine >> width;
    Cell { bits: v | keep, step: c.step }
}

fn moved(c: Cell, dx: i8, dy: i8) -> Cell {
    let c = if dx == 0 { c } else { shift(c, true, dx > 0) };
    if dy == 0 {
        c
    } else {
        shift(c, false, dy > 0)
    }
}

/// What a search looks for.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// Within a radius, in metres.
    Radius(f64),
    /// Within a width × height box, in metres.
    Box(f64, f64),
}

/// The search centre, shape and unit.
#[derive(Debug, Clone, Copy)]
pub struct Search {
    /// Centre longitude.
    pub long: f64,
    /// Centre latitude.
    pub lat: f64,
    /// Shape in the request's unit.
    pub shape: Shape,
    /// Metres per unit.
    pub unit: f64,
}

fn estimate_step(mut range: f64, lat: f64) -> u8 {
    if range == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

impl Search {
    fn half_extent(&self) -> (f64, f64) {
        match self.shape {
            Shape::Radius(r) => (self.unit * r, self.unit * r),
            Shape::Box(w, h) => (self.unit * (h / 2.0), self.unit * (w / 2.0)),
        }
    }

    /// (min long, min lat, max long, max lat) of the shape.
    fn bounds(&self) -> [f64; 4] {
        let (height, width) = self.half_extent();
        let lat_delta = height / EARTH_RADIUS_M / D_R;
        let top = width / EARTH_RADIUS_M / ((self.lat + lat_delta) * D_R).cos() / D_R;
        let bottom = width / EARTH_RADIUS_M / ((self.lat - lat_delta) * D_R).cos() / D_R;
        let d = if self.lat < 0.0 { bottom } else { top };
        [self.long - d, self.lat - lat_delta, self.long + d, self.lat + lat_delta]
    }

    /// The cells to scan, in the server's order (centre, N, S, E, W, NE, NW, SE, SW);
    /// skipped ones are [`Cell::NONE`].
    pub fn cells(&self) -> [Cell; 9] {
        let [min_long, min_lat, max_long, max_lat] = self.bounds();
        let radius = match self.shape {
            Shape::Radius(r) => r,
            Shape::Box(w, h) => ((w / 2.0) * (w / 2.0) + (h / 2.0) * (h / 2.0)).sqrt(),
        } * self.unit;
        let mut step = estimate_step(radius, self.lat);
        let around = |step| {
            let c = encode(self.long, self.lat, step);
            let n = [(0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1)].map(|(x, y)| moved(c, x, y));
            (c, n)
        };
        let (mut centre, mut n) = around(step);
        let too_big = area(n[0]).lat.1 < max_lat
            || area(n[1]).lat.0 > min_lat
            || area(n[2]).long.1 < max_long
            || area(n[3]).long.0 > min_long;
        if step > 1 && too_big {
            step -= 1;
            (centre, n) = around(step);
        }
        if step >= 2 {
            let a = area(centre);
            // Indexes into n: 0 N, 1 S, 2 E, 3 W, 4 NE, 5 NW, 6 SE, 7 SW.
            let mut drop = |ix: [usize; 3]| ix.iter().for_each(|&i| n[i] = Cell::NONE);
            if a.lat.0 < min_lat {
                drop([1, 7, 6]);
            }
            if a.lat.1 > max_lat {
                drop([0, 4, 5]);
            }
            if a.long.0 < min_long {
                drop([3, 7, 5]);
            }
            if a.long.1 > max_long {
                drop([2, 6, 4]);
            }
        }
        [centre, n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]]
    }

    /// The distance in metres from the centre to `(long, lat)` when it is inside.
    pub fn contains(&self, long: f64, lat: f64) -> Option<f64> {
        match self.shape {
            Shape::Radius(r) => {
                let d = distance(self.long, self.lat, long, lat);
                (d <= r * self.unit).then_some(d)
            }
            Shape::Box(w, h) => {
                let (w, h) = (w * self.unit, h * self.unit);
                if lat_distance(lat, self.lat) > h / 2.0 || distance(long, lat, self.long, lat) > w / 2.0 {
                    return None;
                }
                Some(distance(self.long, self.lat, long, lat))
            }
        }
    }
}

/// True for a cell the scan skips.
pub fn skipped(c: Cell) -> bool {
    c.is_none()
}

fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_M * (lat2 * D_R - lat1 * D_R).abs()
}

/// Haversine distance in metres, as the servers compute it.
pub fn distance(long1: f64, lat1: f64, long2: f64, lat2: f64) -> f64 {
    let v = ((long2 * D_R - long1 * D_R) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let (lat1r, lat2r) = (lat1 * D_R, lat2 * D_R);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scores Redis 8.6 logged for GEOADD (as ZADD).
    #[test]
    fn scores_are_the_servers() {
        assert_eq!(score(13.361389, 38.115556) as u64, 3479099956230698);
        assert_eq!(score(15.087269, 37.502669) as u64, 3479447370796909);
        assert_eq!(score(1.0, 1.0) as u64, 3377822707026402);
        let (long, lat) = decode(3479099956230698.0);
        assert!((long - 13.361389).abs() < 1e-5 && (lat - 38.115556).abs() < 1e-5, "{long} {lat}");
    }

    #[test]
    fn neighbours_wrap_like_the_servers() {
        let c = encode(0.0, 0.0, 2);
        let east = moved(c, 1, 0);
        assert_eq!(area(east).long.0, area(c).long.1);
        let north = moved(c, 0, 1);
        assert_eq!(area(north).lat.0, area(c).lat.1);
    }
}
