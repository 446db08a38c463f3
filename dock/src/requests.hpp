/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
/* Which answer belongs to which click.
 *
 * Every action the dock sends returns a request id; the core's snapshot
 * lists how the latest requests ended (DockState::requests). The tracker
 * keeps, per kind of action, the id of the latest click and takes only that
 * id's outcome as its answer. A late outcome of an earlier click of the
 * same kind is not shown: a newer click replaced it. No widgets here, so
 * dock/tests/requests_test.cpp drives it with snapshots. */
#pragma once

#include "dock_state.hpp"

#include <QString>
#include <QVector>

#include <array>
#include <cstdint>

namespace velora {

/* The actions whose answer the dock shows. */
enum class Action : int {
	Info = 0,       /* Update stream info */
	Setup,          /* Use Velora, protocol change */
	Regenerate,     /* Regenerate stream key */
	CheckKey,       /* the checklist's key check */
	Restore,        /* Restore previous settings */
	Categories,     /* Refresh categories */
	Login,          /* Log in (its failures show in the banner) */
	Environment,    /* the environment under Advanced */
	Count
};

struct Answer {
	bool ok = false;
	QString message;
};

class RequestTracker {
public:
	/* A click of `action` was sent as request `id` (0: the core refused to
	 * take it; nothing is waited for). Forgets the answer shown so far. */
	void started(Action action, uint64_t id);

	/* Takes the outcomes of a new snapshot. Returns the actions whose
	 * answer arrived with it (in Action order). */
	QVector<Action> update(const DockState &s);

	/* The latest click of `action` has not been answered yet. */
	bool pending(Action action) const;
	/* The id waited for (0: none). */
	uint64_t waitingFor(Action action) const;

	/* The answer to the latest click of `action`; nullptr when none is
	 * to be shown (never answered yet, still running, or cleared). */
	const Answer *answer(Action action) const;

	void clear(Action action);
	void clearAll();

private:
	struct Slot {
		uint64_t id = 0;
		bool answered = false;
		Answer answer;
	};
	Slot &slot(Action a) { return m_slots[static_cast<size_t>(a)]; }
	const Slot &slot(Action a) const { return m_slots[static_cast<size_t>(a)]; }

	std::array<Slot, static_cast<size_t>(Action::Count)> m_slots{};
};

} // namespace velora
