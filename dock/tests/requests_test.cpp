/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
/* The dock's answer bookkeeping, driven with snapshots in the core's own C
 * layout (include/velora.h) and converted by the dock's DockState: a late
 * answer to an older click is never shown as the answer to the newest one.
 * Built per Qt major by dock/CMakeLists.txt (target velora-dock-tests-qtN),
 * run by tests/dock_logic.rs. Exit code 0: all passed. */

#include "dock_state.hpp"
#include "requests.hpp"
#include "velora.h"

#include <cstdio>
#include <cstring>
#include <vector>

using namespace velora;

static int g_failed = 0;
static int g_checks = 0;

#define CHECK(cond)                                                                  \
	do {                                                                         \
		g_checks++;                                                          \
		if (!(cond)) {                                                       \
			std::fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
			g_failed++;                                                  \
		}                                                                    \
	} while (0)

/* A snapshot as the core hands it over: every string non-NULL. */
struct Snapshot {
	std::vector<VeloraRequestOutcome> outcomes;
	std::vector<VeloraCategory> categories;
	uint64_t running = 0;

	Snapshot &outcome(uint64_t id, bool ok, const char *message)
	{
		outcomes.push_back({id, ok, message});
		return *this;
	}

	DockState state() const
	{
		VeloraDockState s;
		std::memset(&s, 0, sizeof s);
		static const char empty[] = "";
		s.phase = VeloraPhase_Ready;
		s.account = s.login_url = s.custom_url = s.api_base_url = empty;
		s.title = s.category_slug = s.tags = s.key_hint = s.error_text = s.notice_text = empty;
		s.environment = VeloraEnvironment_Sandbox;
		s.protocol = VeloraProtocol_Rtmp;
		s.error_kind = VeloraErrorKind_None;
		s.retry_in_secs = -1;
		s.login_secs_left = -1;
		s.key_checked_secs_ago = -1;
		s.running_request = running;
		s.requests = outcomes.empty() ? nullptr : outcomes.data();
		s.request_count = outcomes.size();
		s.categories = categories.empty() ? nullptr : categories.data();
		s.category_count = categories.size();
		return DockState::fromSnapshot(s);
	}
};

static void late_answer_to_an_older_click_is_not_the_newest_answer()
{
	RequestTracker t;
	/* Use Velora (request 4), then at once SRT from the protocol list
	 * (request 5): both are "setup" clicks; the core answers 4 first. */
	t.started(Action::Setup, 4);
	t.started(Action::Setup, 5);
	Snapshot snap;
	snap.running = 5;
	snap.outcome(4, true, "OBS now streams to Velora.");
	QVector<Action> arrived = t.update(snap.state());
	CHECK(arrived.isEmpty());
	CHECK(t.answer(Action::Setup) == nullptr);
	CHECK(t.pending(Action::Setup));
	CHECK(t.waitingFor(Action::Setup) == 5);

	snap.running = 0;
	snap.outcome(5, false, "Velora offers no SRT ingest for this account.");
	arrived = t.update(snap.state());
	CHECK(arrived.size() == 1 && arrived[0] == Action::Setup);
	const Answer *a = t.answer(Action::Setup);
	CHECK(a && !a->ok);
	CHECK(a && a->message == QStringLiteral("Velora offers no SRT ingest for this account."));
	CHECK(!t.pending(Action::Setup));

	/* The same snapshot again: nothing new arrives. */
	CHECK(t.update(snap.state()).isEmpty());
}

static void another_actions_answer_is_not_taken()
{
	RequestTracker t;
	t.started(Action::Regenerate, 6);
	t.started(Action::Info, 7);
	Snapshot snap;
	snap.outcome(6, true, "New stream key applied.");
	QVector<Action> arrived = t.update(snap.state());
	CHECK(arrived.size() == 1 && arrived[0] == Action::Regenerate);
	CHECK(t.answer(Action::Info) == nullptr);
	CHECK(t.pending(Action::Info));
	snap.outcome(7, true, "Stream info updated.");
	arrived = t.update(snap.state());
	CHECK(arrived.size() == 1 && arrived[0] == Action::Info);
	CHECK(t.answer(Action::Info) && t.answer(Action::Info)->message == QStringLiteral("Stream info updated."));
	/* The regenerate answer stays what it was. */
	CHECK(t.answer(Action::Regenerate) &&
	      t.answer(Action::Regenerate)->message == QStringLiteral("New stream key applied."));
}

static void an_outcome_that_fell_out_of_the_list_shows_nothing()
{
	RequestTracker t;
	t.started(Action::CheckKey, 3);
	Snapshot snap;
	/* The core keeps the latest 8; 3 ended before 4..11 and is gone. */
	for (uint64_t id = 4; id <= 11; id++)
		snap.outcome(id, true, "someone else's answer");
	CHECK(t.update(snap.state()).isEmpty());
	CHECK(!t.pending(Action::CheckKey));
	CHECK(t.answer(Action::CheckKey) == nullptr);
}

static void a_new_click_hides_the_previous_answer()
{
	RequestTracker t;
	t.started(Action::Restore, 2);
	Snapshot snap;
	snap.outcome(2, true, "Your previous streaming settings are back.");
	t.update(snap.state());
	CHECK(t.answer(Action::Restore) != nullptr);
	t.started(Action::Restore, 9);
	CHECK(t.answer(Action::Restore) == nullptr);
	CHECK(t.pending(Action::Restore));
	/* The old outcome is still listed: it is not the answer to 9. */
	CHECK(t.update(snap.state()).isEmpty());
	CHECK(t.answer(Action::Restore) == nullptr);
}

static void a_refused_request_waits_for_nothing()
{
	RequestTracker t;
	t.started(Action::Categories, 0); /* the core's guard caught a panic */
	CHECK(!t.pending(Action::Categories));
	Snapshot snap;
	snap.outcome(1, false, "x");
	CHECK(t.update(snap.state()).isEmpty());
	CHECK(t.answer(Action::Categories) == nullptr);
	t.started(Action::Categories, 12);
	t.clearAll();
	CHECK(!t.pending(Action::Categories));
}

static void snapshot_pictures_are_copied_safely()
{
	Snapshot snap;
	snap.categories.push_back({"art", "Art", VeloraThumbState_Ready, "/tmp/cache/abc.png"});
	snap.categories.push_back({"music", "Music", VeloraThumbState_None, ""});
	snap.categories.push_back({"irl", "IRL", VeloraThumbState_Failed, ""});
	snap.categories.push_back({"gaming", "Gaming", VeloraThumbState_Loading, ""});
	/* Ready without a path, and a state this dock does not know. */
	snap.categories.push_back({"odd", "Odd", VeloraThumbState_Ready, ""});
	snap.categories.push_back({"new", "New", static_cast<VeloraThumbState>(42), "/x.png"});
	const DockState d = snap.state();
	CHECK(d.categories.size() == 6);
	CHECK(d.categories[0].thumbState == VeloraThumbState_Ready &&
	      d.categories[0].imagePath == QStringLiteral("/tmp/cache/abc.png"));
	CHECK(d.categories[1].thumbState == VeloraThumbState_None && d.categories[1].imagePath.isEmpty());
	CHECK(d.categories[2].thumbState == VeloraThumbState_Failed);
	CHECK(d.categories[3].thumbState == VeloraThumbState_Loading);
	CHECK(d.categories[4].thumbState == VeloraThumbState_Failed);
	CHECK(d.categories[5].thumbState == VeloraThumbState_Failed && d.categories[5].imagePath.isEmpty());
	/* Same entries, another picture: not a new list, but a change. */
	Category c = d.categories[3];
	c.thumbState = VeloraThumbState_Ready;
	c.imagePath = QStringLiteral("/p.png");
	CHECK(c.sameEntry(d.categories[3]));
	CHECK(c != d.categories[3]);
}

int main()
{
	late_answer_to_an_older_click_is_not_the_newest_answer();
	another_actions_answer_is_not_taken();
	an_outcome_that_fell_out_of_the_list_shows_nothing();
	a_new_click_hides_the_previous_answer();
	a_refused_request_waits_for_nothing();
	snapshot_pictures_are_copied_safely();
	std::printf("requests_test (Qt %s): %d checks, %d failed\n", QT_VERSION_STR, g_checks, g_failed);
	return g_failed == 0 ? 0 : 1;
}
