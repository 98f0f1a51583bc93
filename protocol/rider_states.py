"""A rider's live state at their branch (``rider_states``; protocol/dispatch.py says
how dispatch and the rider app change it).

The branch's, like its orders: written where the branch runs (its edge, even offline)
and replicated up. The status the branch lists for a rider (``status_of``) is
``inactive`` when head office made the account inactive (``delivery_executives.status``),
else the live status, else the account's.
"""

from . import models

Executive, State = models.DeliveryExecutive, models.RiderState


def state_of(executive_id):
    return State.get_or_none(State.delivery_executive == executive_id)


def states(branch_id):
    """{executive id: RiderState} of the branch's riders."""
    return {s.delivery_executive_id: s for s in State.select().where(State.branch == branch_id)}


def status_of(executive, state):
    if executive.status == "inactive":
        return "inactive"
    return state.status if state is not None else executive.status


def location_of(state):
    """{lat, lng, updated_at} of the rider's latest position, or None."""
    if state is None or state.lat is None:
        return None
    return {"lat": state.lat, "lng": state.lng, "updated_at": state.located_at}


def set_state(executive, now, **fields):
    """Write the rider's live state (made on first use); answers it."""
    state = state_of(executive.id)
    if state is None:
        state = State(branch=executive.branch_id, delivery_executive=executive.id,
                      status=status_of(executive, None), created_at=now)
        for name, value in fields.items():
            setattr(state, name, value)
        state.updated_at = now
        state.save(force_insert=True)
        return state
    for name, value in fields.items():
        setattr(state, name, value)
    state.updated_at = now
    state.save()
    return state


def free(executive_id, order_id, now):
    """The rider no longer carries order_id: available again (unless they carry
    another, or are inactive)."""
    state = state_of(executive_id)
    if state is not None and state.status == "on_delivery" and \
            state.order_id in (order_id, None):
        set_state(Executive.get_by_id(executive_id), now, status="available", order=None)
