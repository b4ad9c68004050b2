//! The race check's rules, one by one: what orders two accesses (a token handed over, an
//! atomic, a wakeup) and what does not (two shared holders of a token, nothing at all), and
//! which accesses conflict (a read and a write of the same bits, any two writes).

use kexit_model::race::{Data, Kind, RaceCheck};
use kexit_model::site::Site;
use kexit_model::trace::{Field, Tok, What};

static SITE: Site = Site {
    file: "kern_exit.c",
    func: "test",
    line: 1,
    cites: "",
};

const A: usize = 0;
const B: usize = 1;
const X: Data = Data::Word(Field::PFlags(2));
const ALL: u64 = u64::MAX;
const T: Tok = Tok::Proc(2);

fn write(rc: &mut RaceCheck, a: usize, mask: u64) -> bool {
    rc.access(a, 0, &SITE, X, Kind::Write, mask).is_some()
}

fn read(rc: &mut RaceCheck, a: usize, mask: u64) -> bool {
    rc.access(a, 0, &SITE, X, Kind::Read, mask).is_some()
}

fn step(rc: &mut RaceCheck, a: usize, what: What, shared: bool) {
    rc.observe(a, &what, |_| shared);
}

#[test]
fn nothing_between_a_write_and_a_read_is_a_race() {
    let mut rc = RaceCheck::default();
    assert!(!write(&mut rc, A, ALL));
    assert!(read(&mut rc, B, ALL), "a read unordered with a write");
    let mut rc = RaceCheck::default();
    assert!(!read(&mut rc, A, ALL));
    assert!(write(&mut rc, B, ALL), "a write unordered with a read");
}

#[test]
fn a_token_handed_over_orders_its_holders() {
    let mut rc = RaceCheck::default();
    step(&mut rc, A, What::TokAcquired(T, false), false);
    assert!(!write(&mut rc, A, ALL));
    step(&mut rc, A, What::TokReleased(T), false);
    step(&mut rc, B, What::TokAcquired(T, false), false);
    assert!(!read(&mut rc, B, ALL), "the token orders the two");
    assert!(
        !write(&mut rc, B, ALL),
        "and a write after the read as well"
    );
}

#[test]
fn a_token_lost_by_blocking_orders_the_next_holder() {
    let mut rc = RaceCheck::default();
    step(&mut rc, A, What::TokAcquired(T, false), false);
    assert!(!write(&mut rc, A, ALL));
    step(&mut rc, A, What::TokLostByBlocking(vec![T]), false);
    step(&mut rc, B, What::TokReacquired(vec![T]), false);
    assert!(!read(&mut rc, B, ALL));
}

#[test]
fn what_a_holder_does_after_its_release_is_not_ordered() {
    let mut rc = RaceCheck::default();
    step(&mut rc, A, What::TokAcquired(T, false), false);
    step(&mut rc, A, What::TokReleased(T), false);
    assert!(!write(&mut rc, A, ALL));
    step(&mut rc, B, What::TokAcquired(T, false), false);
    assert!(read(&mut rc, B, ALL), "the write came after the release");
}

#[test]
fn two_shared_holders_are_not_ordered() {
    let mut rc = RaceCheck::default();
    step(&mut rc, A, What::TokAcquired(T, true), true);
    assert!(!write(&mut rc, A, ALL));
    step(&mut rc, A, What::TokReleased(T), true);
    step(&mut rc, B, What::TokAcquired(T, true), true);
    assert!(
        read(&mut rc, B, ALL),
        "a shared release orders only exclusive holders"
    );
    let mut rc = RaceCheck::default();
    step(&mut rc, A, What::TokAcquired(T, true), true);
    assert!(!write(&mut rc, A, ALL));
    step(&mut rc, A, What::TokReleased(T), true);
    step(&mut rc, B, What::TokAcquired(T, false), false);
    assert!(
        !read(&mut rc, B, ALL),
        "an exclusive holder comes after the shared ones"
    );
}

#[test]
fn an_atomic_orders_what_came_before_it() {
    let f = Field::TdMpflags(1);
    let mut rc = RaceCheck::default();
    assert!(!write(&mut rc, A, ALL));
    let (old, new) = (0, 8);
    step(&mut rc, A, What::Atomic { field: f, old, new }, false);
    step(&mut rc, B, What::Load { field: f, val: new }, false);
    assert!(
        !read(&mut rc, B, ALL),
        "the load of the atomic word orders them"
    );
    let mut rc = RaceCheck::default();
    step(&mut rc, A, What::Atomic { field: f, old, new }, false);
    assert!(!write(&mut rc, A, ALL));
    step(&mut rc, B, What::Load { field: f, val: new }, false);
    assert!(read(&mut rc, B, ALL), "the write came after the atomic");
}

#[test]
fn a_wakeup_orders_the_sleeper_after_the_waker() {
    let mut rc = RaceCheck::default();
    assert!(!write(&mut rc, A, ALL));
    rc.wake(A, B);
    assert!(!read(&mut rc, B, ALL));
}

#[test]
fn a_read_races_only_with_a_write_of_the_bits_it_tests() {
    let mut rc = RaceCheck::default();
    assert!(!write(&mut rc, A, 0x1));
    assert!(
        !read(&mut rc, B, 0x2),
        "P_CONTROLT tested, P_TRACED cleared"
    );
    assert!(read(&mut rc, B, 0x3));
}

#[test]
fn two_writes_race_whatever_their_bits() {
    let mut rc = RaceCheck::default();
    assert!(!write(&mut rc, A, 0x1));
    assert!(write(&mut rc, B, 0x2), "a store writes the whole word");
}

#[test]
fn an_earlier_write_of_other_bits_is_still_seen() {
    let mut rc = RaceCheck::default();
    assert!(!write(&mut rc, A, 0x1));
    assert!(!write(&mut rc, A, 0x2));
    assert!(read(&mut rc, B, 0x1), "the first write changed bit 0x1");
}

#[test]
fn an_atomic_update_races_with_a_plain_store_only() {
    let f = Field::PFlags(2);
    let mut rc = RaceCheck::default();
    assert!(rc
        .access(A, 0, &SITE, Data::Word(f), Kind::Atomic, ALL)
        .is_none());
    assert!(
        rc.access(B, 0, &SITE, Data::Word(f), Kind::Atomic, ALL)
            .is_none(),
        "two atomics"
    );
    assert!(
        !read(&mut rc, B, ALL),
        "a read sees the word before or after it"
    );
    assert!(
        write(&mut rc, B, 0x2),
        "a plain store can undo it (a lost update)"
    );
    let mut rc = RaceCheck::default();
    assert!(!write(&mut rc, A, 0x1));
    assert!(
        rc.access(B, 0, &SITE, Data::Word(f), Kind::Atomic, ALL)
            .is_some(),
        "either order"
    );
}
