use super::*;
use crate::runtime::FakeRuntime;

#[test]
fn sample_cycles_records_and_reschedules_itself() {
    let rt = FakeRuntime::new();
    rt.liquid_cycles.set(5_000);
    let now = rt.time();
    let follow_ups = run(&rt, &Task::SampleCycles, now);
    assert_eq!(cycles::len(), 1);
    let interval = config::get().sample_interval_ns();
    assert_eq!(follow_ups, Ok(vec![(now + interval, Task::SampleCycles)]));
    // Running again at the same time changes nothing.
    run(&rt, &Task::SampleCycles, now).unwrap();
    assert_eq!(cycles::len(), 1);
}
