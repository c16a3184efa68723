//! The model's predictions: each operation's outcome, its effects applied to the model.

use super::*;

impl World {
    fn authorize(&self, provider: usize, caller: Principal) -> Outcome {
        if delegates(provider).contains(&caller) {
            Ok(())
        } else {
            Err("NotAuthorized")
        }
    }

    fn owned(&self, provider: usize, id: u64) -> Result<MItem, &'static str> {
        let item = self.model.live_item(id).ok_or("UnknownItem")?;
        if item.provider != provider {
            return Err("NotAuthorized");
        }
        Ok(item.clone())
    }

    pub(super) fn predict_set_status(
        &mut self,
        provider: usize,
        caller: Principal,
        id: u64,
        to: ItemStatus,
        now: u64,
    ) -> Outcome {
        self.authorize(provider, caller)?;
        let item = self.owned(provider, id)?;
        if !inventory::allowed(item.status, to, inventory::By::Provider) {
            return Err("InvalidTransition");
        }
        if to == ItemStatus::Archiving {
            let busy = self.model.execs.values().any(|e| {
                e.item == id
                    && !e.phase.is_final()
                    && e.phase != Phase::Offered
                    && e.booked_end > now
            });
            if busy {
                return Err("ItemBusy");
            }
        }
        self.model.items.get_mut(&id).unwrap().status = to;
        if matches!(to, ItemStatus::Maintenance | ItemStatus::Archiving) {
            self.model.reject_offered(|_, e| e.item == id);
        }
        if to == ItemStatus::Archiving {
            for o in self.model.offers.values_mut() {
                if o.item == id && o.status == OfferStatus::Open {
                    o.status = OfferStatus::Withdrawn;
                }
            }
        }
        Ok(())
    }

    pub(super) fn predict_remove(
        &mut self,
        provider: usize,
        caller: Principal,
        id: u64,
    ) -> Outcome {
        self.authorize(provider, caller)?;
        let item = self.owned(provider, id)?;
        if item.status != ItemStatus::Archiving {
            return Err("InvalidTransition");
        }
        if self.model.booked(id, 0, u64::MAX).is_some() {
            return Err("ItemBusy");
        }
        self.model.items.get_mut(&id).unwrap().removed = true;
        Ok(())
    }

    pub(super) fn predict_offers(
        &mut self,
        provider: usize,
        caller: Principal,
        inputs: &[OfferIn],
        now: u64,
    ) -> Outcome {
        self.authorize(provider, caller)?;
        let mut earlier: Vec<(u64, u64, u64)> = Vec::new();
        for input in inputs {
            let (item_id, (start, end)) = (input.item, input.window);
            let item = self.owned(provider, item_id)?;
            if item.status == ItemStatus::Archiving {
                return Err("InvalidArgument");
            }
            if end <= start || end <= now {
                return Err("InvalidWindow");
            }
            if let Some(terms) = &input.terms {
                check_terms(terms, end - start)?;
            }
            let overlaps_open = self.model.offers.values().any(|o| {
                o.item == item_id
                    && o.status == OfferStatus::Open
                    && o.end > now
                    && o.start < end
                    && start < o.end
            });
            if overlaps_open {
                return Err("OfferOverlap");
            }
            if earlier
                .iter()
                .any(|&(i, s, e)| i == item_id && s < end && start < e)
            {
                return Err("InvalidArgument");
            }
            earlier.push((item_id, start, end));
        }
        for input in inputs {
            if let Some(terms) = &input.terms {
                for (what, set) in [
                    ("offer_shortest_lease", terms.min_duration_seconds.is_some()),
                    ("offer_grid", terms.granularity_seconds.is_some()),
                    ("offer_private", terms.visible_to.is_some()),
                ] {
                    if set {
                        *self.stats.deep.entry(what).or_default() += 1;
                    }
                }
            }
            let id = self.model.next_offer;
            self.model.next_offer += 1;
            self.model.offers.insert(
                id,
                MOffer {
                    item: input.item,
                    provider,
                    start: input.window.0,
                    end: input.window.1,
                    price: input.price,
                    status: OfferStatus::Open,
                    terms: input.terms.clone().filter(|t| *t != OfferTerms::default()),
                },
            );
        }
        Ok(())
    }

    pub(super) fn predict_withdraw(
        &mut self,
        provider: usize,
        caller: Principal,
        id: u64,
    ) -> Outcome {
        self.authorize(provider, caller)?;
        let offer = self.model.offers.get(&id).ok_or("UnknownOffer")?;
        if offer.provider != provider {
            return Err("NotAuthorized");
        }
        if offer.status != OfferStatus::Open {
            return Err("OfferClosed");
        }
        self.model.offers.get_mut(&id).unwrap().status = OfferStatus::Withdrawn;
        self.model.reject_offered(|_, e| e.offer == id);
        Ok(())
    }

    pub(super) fn predict_request(&mut self, who: Principal, ask: &Ask, now: u64) -> Outcome {
        let &Ask {
            start,
            duration_s,
            count,
            sku,
            min_cores,
            max_price,
            image,
            alternatives,
        } = ask;
        if duration_s < offerset::MIN_LEASE_SECONDS {
            return Err("InvalidArgument");
        }
        let begin = start.unwrap_or(now);
        if begin + MINUTE < now {
            return Err("InvalidWindow");
        }
        let window = (begin, begin + duration_s * SECOND_NS);
        let count = count.unwrap_or(3);
        if count == 0 {
            return Err("InvalidArgument");
        }
        let p = self.model.policies.clone();
        if self.model.open_offersets(&who) >= p.max_open
            || self.model.active_leases(&who) >= p.max_active
        {
            return Err("QuotaExceeded");
        }
        let id = self.model.next_set;
        self.model.next_set += 1;
        let refused = (!p.images.is_empty() && !p.images.iter().any(|i| i == image))
            || duration_s > p.max_lease_s;
        let found = if refused {
            vec![]
        } else {
            // The longest window a hold may book: the longest lease or hold.
            let longest = p.max_lease_s.min(policy::DEFAULT_MAX_HOLD_WINDOW_SECONDS) * SECOND_NS;
            self.model.find(
                now,
                longest,
                &who,
                window,
                start.is_none(),
                alternatives.unwrap_or(0),
                count as usize,
                sku,
                min_cores,
                max_price,
            )
        };
        let mut set = MSet {
            consumer: who,
            result: OffersetResult::No,
            status: OffersetStatus::Expired,
            execs: vec![],
            expires_at: now,
            created: now,
        };
        for m in &found {
            // How deep the generator reaches: alternative starts taken, earlier and later.
            let what = match start {
                Some(asked) if m.moved && m.start < asked => "alternative_start_earlier",
                Some(_) if m.moved => "alternative_start_later",
                None if m.moved => "first_free_time",
                _ => continue,
            };
            *self.stats.deep.entry(what).or_default() += 1;
        }
        if !found.is_empty() {
            let expires_at = now + p.ttl_s * SECOND_NS;
            for m in &found {
                let exec = self.model.hold(m, who, Some(id), expires_at);
                set.execs.push(exec);
            }
            set.result = OffersetResult::Yes;
            set.status = OffersetStatus::Open;
            set.expires_at = expires_at;
        }
        self.model.sets.insert(id, set);
        Ok(())
    }

    pub(super) fn predict_accept(
        &mut self,
        id: u64,
        who: Principal,
        bad_key: bool,
        now: u64,
    ) -> Outcome {
        let e = self.model.execs.get(&id).ok_or("UnknownExecution")?.clone();
        if who != e.consumer {
            return Err("NotAuthorized");
        }
        if bad_key {
            return Err("InvalidArgument");
        }
        if e.phase != Phase::Offered || e.expires_at <= now {
            return Err("WrongPhase");
        }
        if self.model.active_leases(&who) >= self.model.policies.max_active {
            return Err("QuotaExceeded");
        }
        if self.model.offers[&e.offer].status != OfferStatus::Open {
            return Err("OfferClosed");
        }
        self.model.execs.get_mut(&id).unwrap().phase = Phase::Accepted;
        if let Some(set_id) = e.offerset {
            self.model
                .reject_offered(|other, o| o.offerset == Some(set_id) && other != id);
            let set = self.model.sets.get_mut(&set_id).unwrap();
            if set.status == OffersetStatus::Open {
                set.status = OffersetStatus::Accepted { execution_id: id };
            }
        }
        if e.start > now {
            self.model.execs.get_mut(&id).unwrap().phase = Phase::Waiting;
        }
        Ok(())
    }

    pub(super) fn predict_cancel(&mut self, id: u64, who: Principal, now: u64) -> Outcome {
        let e = self.model.execs.get(&id).ok_or("UnknownExecution")?.clone();
        if who != e.consumer && who != admin() {
            return Err("NotAuthorized");
        }
        match e.phase {
            Phase::Accepted | Phase::Waiting => {
                self.model.execs.get_mut(&id).unwrap().phase = Phase::Cancelled;
            }
            Phase::Preparing | Phase::Available => {
                // The consumer's cancel of a running lease ends it now, as `lease_end` does
                // (it pays the started hours); a controller's keeps the window (owes nothing).
                if who == e.consumer {
                    let e = self.model.execs.get_mut(&id).unwrap();
                    e.end = now.max(e.start + 1);
                    e.booked_end = e.end;
                }
                self.model.release(id, Phase::Cancelled)
            }
            _ => return Err("WrongPhase"),
        }
        Ok(())
    }

    pub(super) fn predict_extend(&mut self, id: u64, asked_end: u64) -> Outcome {
        let e = self.model.execs.get(&id).ok_or("UnknownExecution")?.clone();
        if !matches!(
            e.phase,
            Phase::Accepted | Phase::Waiting | Phase::Preparing | Phase::Available
        ) {
            return Err("WrongPhase");
        }
        if e.reclaim.is_some() {
            return Err("InvalidArgument");
        }
        let offer = &self.model.offers[&e.offer];
        if offer.status != OfferStatus::Open {
            return Err("OfferClosed");
        }
        if asked_end <= e.end || asked_end > offer.end {
            return Err("InvalidWindow");
        }
        // Widened to the offer's grid.
        let new_end = offer.up(asked_end).min(offer.end);
        if new_end - e.start > self.model.policies.max_lease_s * SECOND_NS {
            return Err("LeaseTooLong");
        }
        if self.model.booked(e.item, e.end, new_end).is_some() {
            return Err("Booked");
        }
        let e = self.model.execs.get_mut(&id).unwrap();
        e.end = new_end;
        e.booked_end = new_end;
        Ok(())
    }

    pub(super) fn predict_end_now(&mut self, id: u64, who: Principal, now: u64) -> Outcome {
        let e = self.model.execs.get(&id).ok_or("UnknownExecution")?.clone();
        if who != e.consumer {
            return Err("NotAuthorized");
        }
        if !matches!(e.phase, Phase::Preparing | Phase::Available) {
            return Err("WrongPhase");
        }
        // The unused time goes back at once: the booking ends now too.
        let e = self.model.execs.get_mut(&id).unwrap();
        e.end = now.max(e.start + 1);
        e.booked_end = e.end;
        self.model.release(id, Phase::Completed);
        Ok(())
    }

    /// `lease_reclaim`: the lease ends at now + notice (at least the policy's); its booking
    /// and end shrink to that deadline when it starts before it (one starting later keeps
    /// them until the queue cancels it at the deadline).
    pub(super) fn predict_reclaim(
        &mut self,
        provider: usize,
        caller: Principal,
        id: u64,
        notice_s: Option<u64>,
        now: u64,
    ) -> Outcome {
        self.authorize(provider, caller)?;
        let e = self.model.execs.get(&id).ok_or("UnknownExecution")?.clone();
        if self.model.items[&e.item].provider != provider {
            return Err("NotAuthorized");
        }
        if !matches!(
            e.phase,
            Phase::Accepted | Phase::Waiting | Phase::Preparing | Phase::Available
        ) {
            return Err("WrongPhase");
        }
        let least = self.model.policies.reclaim_notice_s;
        let notice = notice_s.unwrap_or(least);
        if e.reclaim.is_some() || notice < least {
            return Err("InvalidArgument");
        }
        let deadline = now + notice * SECOND_NS;
        if deadline >= e.end {
            return Err("InvalidWindow");
        }
        let e = self.model.execs.get_mut(&id).unwrap();
        e.reclaim = Some(deadline);
        if e.start < deadline {
            e.end = deadline;
            e.booked_end = deadline;
        }
        Ok(())
    }

    pub(super) fn predict_lease_by_sku(
        &mut self,
        who: Principal,
        sku: &'static str,
        duration_s: u64,
        max_price: Option<u64>,
        now: u64,
    ) -> Outcome {
        if duration_s < offerset::MIN_LEASE_SECONDS {
            return Err("InvalidArgument");
        }
        let p = self.model.policies.clone();
        if duration_s > p.max_lease_s {
            return Err("LeaseTooLong");
        }
        if !p.images.is_empty() && !p.images.iter().any(|i| i == "ubuntu") {
            return Err("NothingAvailable");
        }
        if self.model.active_leases(&who) >= p.max_active {
            return Err("QuotaExceeded");
        }
        let window = (now, now + duration_s * SECOND_NS);
        let found = self.model.find(
            now,
            p.max_lease_s * SECOND_NS,
            &who,
            window,
            false,
            0,
            1,
            Some(sku),
            None,
            max_price,
        );
        let Some(m) = found.first() else {
            return Err("NothingAvailable");
        };
        // Paid first: the hold lasts an offerset's hold while the ledger answers.
        let expires_at = now + self.model.policies.ttl_s * SECOND_NS;
        let id = self.model.hold(m, who, None, expires_at);
        self.model.execs.get_mut(&id).unwrap().phase = Phase::Accepted;
        Ok(())
    }
}

/// `offers::terms::check`: the terms an offer of `window_ns` can keep.
fn check_terms(terms: &OfferTerms, window_ns: u64) -> Outcome {
    if terms
        .min_duration_seconds
        .is_some_and(|min| min < offerset::MIN_LEASE_SECONDS || min * SECOND_NS > window_ns)
    {
        return Err("InvalidArgument");
    }
    if terms
        .granularity_seconds
        .is_some_and(|step| step == 0 || step > 86_400)
    {
        return Err("InvalidArgument");
    }
    if let Some(list) = &terms.visible_to {
        if list.is_empty() {
            return Err("InvalidArgument");
        }
        if list.len() > offers::MAX_VISIBLE_TO {
            return Err("TooMany");
        }
        if list.contains(&Principal::anonymous()) {
            return Err("InvalidArgument");
        }
    }
    Ok(())
}
