/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
#include "requests.hpp"

#include <algorithm>

namespace velora {

void RequestTracker::started(Action action, uint64_t id)
{
	Slot &s = slot(action);
	s.id = id;
	s.answered = false;
	s.answer = Answer();
}

QVector<Action> RequestTracker::update(const DockState &s)
{
	/* The core answers the dock's requests one after the other, in the
	 * order they were made, and keeps the latest few outcomes. */
	uint64_t newest = 0;
	for (const RequestOutcome &o : s.requests)
		newest = std::max(newest, o.id);

	QVector<Action> arrived;
	for (int i = 0; i < static_cast<int>(Action::Count); i++) {
		const auto action = static_cast<Action>(i);
		Slot &sl = slot(action);
		if (sl.id == 0)
			continue;
		if (const RequestOutcome *o = s.outcome(sl.id)) {
			sl.answered = true;
			sl.answer.ok = o->ok;
			sl.answer.message = o->message;
			sl.id = 0;
			arrived.push_back(action);
		} else if (newest > sl.id) {
			/* A later request has ended, so this one has too, and its
			 * outcome is no longer listed (the dock was not refreshed in
			 * time): nothing to show rather than someone else's answer. */
			sl.id = 0;
		}
	}
	return arrived;
}

bool RequestTracker::pending(Action action) const
{
	return slot(action).id != 0;
}

uint64_t RequestTracker::waitingFor(Action action) const
{
	return slot(action).id;
}

const Answer *RequestTracker::answer(Action action) const
{
	const Slot &s = slot(action);
	return s.answered && s.id == 0 ? &s.answer : nullptr;
}

void RequestTracker::clear(Action action)
{
	slot(action) = Slot();
}

void RequestTracker::clearAll()
{
	for (Slot &s : m_slots)
		s = Slot();
}

} // namespace velora
