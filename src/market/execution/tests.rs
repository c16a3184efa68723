use super::*;

#[test]
fn final_phases_have_no_way_out_and_every_other_phase_has_one() {
    let all = [
        Offered, Accepted, Rejected, Expired, Waiting, Preparing, Available, Releasing, Completed,
        Cancelled, Failed,
    ];
    for phase in all {
        let exits = all.iter().filter(|to| allowed(phase, **to)).count();
        assert_eq!(exits == 0, phase.is_final(), "{phase:?}");
    }
    assert!(!allowed(Completed, Available));
    assert!(!allowed(Offered, Available));
}
