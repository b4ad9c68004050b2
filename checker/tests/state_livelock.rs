//! Livelocks as fair cycles of the state graph (`checker/src/engine/state/cycle.rs`), driven through
//! the depth-first search with decisions of our own: states are fingerprints, and a path that
//! comes back to a state it is exploring either goes round the cycle (fair) or is cut.

use kexit_checker::engine::state::engine::{Choice, Chooser, Decision, Footprint};
use kexit_checker::engine::state::search::Dfs;
use kexit_checker::engine::Budget;
use kexit_model::engine::ActorId;
use std::sync::Arc;

fn decide(dfs: &mut Dfs, fp: u128, enabled: &[ActorId]) -> Choice {
    let next: Vec<Footprint> = enabled.iter().map(|_| Some(Vec::new())).collect();
    dfs.choose(&Decision {
        fp: Some(fp),
        enabled,
        next: &next,
        race: false,
    })
}

fn search() -> Dfs {
    let mut dfs = Dfs::new(&Budget::default(), false, Arc::default());
    assert!(dfs.begin());
    dfs
}

#[test]
fn a_poller_alone_that_comes_back_to_its_state_goes_round_the_cycle() {
    let mut dfs = search();
    assert_eq!(decide(&mut dfs, 1, &[0]), Choice::Run(0));
    assert_eq!(decide(&mut dfs, 2, &[0]), Choice::Run(0));
    assert_eq!(decide(&mut dfs, 3, &[0]), Choice::Run(0));
    // Back at state 2: a cycle of two decisions, entered after one.
    assert_eq!(decide(&mut dfs, 2, &[0]), Choice::Run(0));
    let cycle = dfs.limits.stats.livelock.clone().expect("a livelock");
    assert_eq!((cycle.entered_after, cycle.actors), (1, vec![0, 0]));
    // From now on the execution goes round, whatever the states are called.
    for _ in 0..5 {
        assert_eq!(decide(&mut dfs, 2, &[0]), Choice::Run(0));
    }
    // A new execution searches again.
    assert!(!dfs.begin(), "nothing else to explore");
}

#[test]
fn a_cycle_that_never_runs_an_actor_able_to_run_is_cut() {
    let mut dfs = search();
    assert_eq!(decide(&mut dfs, 1, &[0, 1]), Choice::Run(0));
    assert_eq!(decide(&mut dfs, 2, &[0, 1]), Choice::Run(0));
    // Back at state 1 with actor 1 enabled throughout and never chosen: no livelock.
    assert_eq!(decide(&mut dfs, 1, &[0, 1]), Choice::Cut);
    assert!(dfs.limits.stats.livelock.is_none());
    assert_eq!(dfs.limits.stats.cycles, 1);
}
