//! Geo commands as servers log them. GEOADD reaches an AOF as the ZADD it turns into
//! (it is replayed the same way when a file has it); GEORADIUS and GEORADIUSBYMEMBER
//! with STORE/STOREDIST and GEOSEARCHSTORE are logged verbatim, so the search runs
//! again here, scanning the same cells in the same order as the server.

use std::ops::Bound;

use super::args::{at_least, float, int, is};
use super::geohash::{self, Search, Shape};
use super::zsets::{as_zset, zadd};
use super::{Ctx, Fail, Outcome};
use crate::dataset::{Bytes, Score, Value, ZSet};

pub fn dispatch(cx: &mut Ctx, name: &[u8], argv: &[&[u8]]) -> Option<Outcome> {
    Some(match name {
        b"GEOADD" => geoadd(cx, argv),
        b"GEORADIUS" => at_least(argv, 6).and_then(|()| search(cx, argv, Kind::Radius)),
        b"GEORADIUSBYMEMBER" => at_least(argv, 5).and_then(|()| search(cx, argv, Kind::RadiusByMember)),
        b"GEOSEARCHSTORE" => at_least(argv, 8).and_then(|()| search(cx, argv, Kind::SearchStore)),
        _ => return None,
    })
}

fn geoadd(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    at_least(argv, 5)?;
    let mut first = 2;
    let (mut nx, mut xx) = (false, false);
    while first < argv.len() {
        let a = argv[first];
        if is(a, "NX") {
            nx = true;
        } else if is(a, "XX") {
            xx = true;
        } else if !is(a, "CH") {
            break;
        }
        first += 1;
    }
    if !(argv.len() - first).is_multiple_of(3) || (nx && xx) {
        return Err(Fail::syntax());
    }
    let mut scores = Vec::with_capacity((argv.len() - first) / 3);
    for t in argv[first..].chunks_exact(3) {
        let (long, lat) = long_lat(t[0], t[1])?;
        scores.push(format!("{}", geohash::score(long, lat) as u64).into_bytes());
    }
    let mut zargv: Vec<&[u8]> = argv[..first].to_vec();
    zargv[0] = b"ZADD";
    for (t, s) in argv[first..].chunks_exact(3).zip(&scores) {
        zargv.push(s);
        zargv.push(t[2]);
    }
    zadd(cx, &zargv)
}

fn long_lat(long: &[u8], lat: &[u8]) -> Result<(f64, f64), Fail> {
    let (long, lat) = (float(long)?, float(lat)?);
    if !geohash::valid(long, lat) {
        return Err(Fail::Reply(format!("ERR invalid longitude,latitude pair {long:.6},{lat:.6}")));
    }
    Ok((long, lat))
}

fn unit(a: &[u8]) -> Result<f64, Fail> {
    Ok(match () {
        _ if is(a, "m") => 1.0,
        _ if is(a, "km") => 1000.0,
        _ if is(a, "ft") => 0.3048,
        _ if is(a, "mi") => 1609.34,
        _ => return Err(Fail::Reply("ERR unsupported unit provided. please use M, KM, FT, MI".into())),
    })
}

/// A non-negative distance and its unit.
fn length(a: &[u8]) -> Result<f64, Fail> {
    let v = float(a)?;
    if v < 0.0 {
        return Err(Fail::Reply("ERR radius cannot be negative".into()));
    }
    Ok(v)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Radius,
    RadiusByMember,
    SearchStore,
}

/// The decoded position of `member`, or the server's error.
fn member_pos(z: &ZSet, member: &[u8]) -> Result<(f64, f64), Fail> {
    match z.scores.get(member) {
        Some(&s) => Ok(geohash::decode(s)),
        None => Err(Fail::Reply("ERR could not decode requested zset member".into())),
    }
}

#[derive(Default)]
struct Request<'a> {
    centre: Option<(f64, f64)>,
    shape: Option<Shape>,
    unit: f64,
    store: Option<&'a [u8]>,
    storedist: bool,
    desc: Option<bool>,
    count: usize,
    any: bool,
}

fn search(cx: &mut Ctx, argv: &[&[u8]], kind: Kind) -> Outcome {
    let src_ix = if kind == Kind::SearchStore { 2 } else { 1 };
    let src = cx.existing(argv[src_ix], as_zset)?.map(|z| &*z);
    let mut r = Request::default();
    let base = match kind {
        Kind::Radius => {
            r.centre = Some(long_lat(argv[2], argv[3])?);
            (r.shape, r.unit) = (Some(Shape::Radius(length(argv[4])?)), unit(argv[5])?);
            6
        }
        Kind::RadiusByMember => {
            if let Some(z) = src {
                r.centre = Some(member_pos(z, argv[2])?);
                (r.shape, r.unit) = (Some(Shape::Radius(length(argv[3])?)), unit(argv[4])?);
            }
            5
        }
        Kind::SearchStore => {
            r.store = Some(argv[1]);
            3
        }
    };
    let geosearch = kind == Kind::SearchStore;
    let (mut frommember, mut fromloc, mut withopts) = (false, false, false);
    let rest = &argv[base..];
    let mut i = 0;
    while i < rest.len() {
        let (a, left) = (rest[i], rest.len() - i - 1);
        if is(a, "WITHDIST") || is(a, "WITHHASH") || is(a, "WITHCOORD") {
            withopts = true;
        } else if is(a, "ANY") {
            r.any = true;
        } else if is(a, "ASC") || is(a, "DESC") {
            r.desc = Some(is(a, "DESC"));
        } else if is(a, "COUNT") && left >= 1 {
            let n = int(rest[i + 1])?;
            if n <= 0 {
                return Err(Fail::Reply("ERR COUNT must be > 0".into()));
            }
            r.count = usize::try_from(n).unwrap_or(usize::MAX);
            i += 1;
        } else if (is(a, "STORE") || is(a, "STOREDIST")) && left >= 1 && !geosearch {
            (r.store, r.storedist) = (Some(rest[i + 1]), is(a, "STOREDIST"));
            i += 1;
        } else if is(a, "STOREDIST") && geosearch {
            r.storedist = true;
        } else if is(a, "FROMMEMBER") && left >= 1 && geosearch && !fromloc {
            if let Some(z) = src {
                r.centre = Some(member_pos(z, rest[i + 1])?);
            }
            frommember = true;
            i += 1;
        } else if is(a, "FROMLONLAT") && left >= 2 && geosearch && !frommember {
            r.centre = Some(long_lat(rest[i + 1], rest[i + 2])?);
            fromloc = true;
            i += 2;
        } else if is(a, "BYRADIUS") && left >= 2 && geosearch && !matches!(r.shape, Some(Shape::Box(..))) {
            (r.shape, r.unit) = (Some(Shape::Radius(length(rest[i + 1])?)), unit(rest[i + 2])?);
            i += 2;
        } else if is(a, "BYBOX") && left >= 3 && geosearch && !matches!(r.shape, Some(Shape::Radius(_))) {
            let (w, h) = (float(rest[i + 1])?, float(rest[i + 2])?);
            if w < 0.0 || h < 0.0 {
                return Err(Fail::Reply("ERR height or width cannot be negative".into()));
            }
            (r.shape, r.unit) = (Some(Shape::Box(w, h)), unit(rest[i + 3])?);
            i += 3;
        } else {
            return Err(Fail::syntax());
        }
        i += 1;
    }
    if (r.store.is_some() && withopts)
        || (geosearch && !(frommember || fromloc))
        || (geosearch && r.shape.is_none())
        || (r.any && r.count == 0)
    {
        return Err(Fail::syntax());
    }
    // Without a destination the command is a read (servers do not log it).
    let Some(dest) = r.store else { return Ok(()) };
    let (Some(z), Some((long, lat)), Some(shape)) = (src, r.centre, r.shape) else {
        // A missing source deletes the destination.
        cx.remove(dest);
        return Ok(());
    };
    let found = run(z, &Search { long, lat, shape, unit: r.unit }, &r);
    if found.is_empty() {
        cx.remove(dest);
        return Ok(());
    }
    let mut out = ZSet::default();
    for (member, score, dist) in found {
        out.insert(&member, if r.storedist { dist / r.unit } else { score });
    }
    cx.put(dest, Value::ZSet(Box::new(out)), None);
    Ok(())
}

/// The members the server stores: (member, score, distance in metres).
fn run(z: &ZSet, s: &Search, r: &Request<'_>) -> Vec<(Bytes, f64, f64)> {
    let limit = if r.any { r.count } else { 0 };
    let mut found: Vec<(Bytes, f64, f64)> = Vec::new();
    let cells = s.cells();
    let mut last: Option<usize> = None;
    for (i, &cell) in cells.iter().enumerate() {
        if geohash::skipped(cell) {
            continue;
        }
        // A repeat of the previous scanned cell (huge radii) is scanned once
        // (the server compares with the last scanned one from the second on).
        if last.is_some_and(|l| l > 0 && cells[l] == cell) {
            continue;
        }
        if !found.is_empty() && limit > 0 && found.len() >= limit {
            break;
        }
        let (min, max) = cell.score_range();
        let from = (Score(min), Bytes::default());
        for (score, member) in z.order.range((Bound::Included(&from), Bound::Unbounded)) {
            if score.0 >= max {
                break;
            }
            let (long, lat) = geohash::decode(score.0);
            if let Some(d) = s.contains(long, lat) {
                found.push((member.clone(), score.0, d));
            }
            if !found.is_empty() && limit > 0 && found.len() >= limit {
                break;
            }
        }
        last = Some(i);
    }
    let desc = match r.desc {
        None if r.count > 0 && !r.any => Some(false),
        d => d,
    };
    if let Some(desc) = desc {
        found.sort_by(|a, b| if desc { b.2.total_cmp(&a.2) } else { a.2.total_cmp(&b.2) });
    }
    if r.count > 0 {
        found.truncate(r.count);
    }
    found
}
