/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
/* An owning copy of one VeloraDockState snapshot.
 *
 * The C snapshot lives only between state_get() and state_free(); the dock
 * copies it at once and renders from the copy. */
#pragma once

#include "velora.h"

#include <QString>
#include <QVector>

#include <cstdint>

namespace velora {

struct Category {
	QString slug;
	QString name;
	VeloraThumbState thumbState = VeloraThumbState_None;
	/* The checked, cached picture (thumbState Ready), else empty. */
	QString imagePath;

	/* Same entry of the list (the picture may differ). */
	bool sameEntry(const Category &o) const { return slug == o.slug && name == o.name; }
	bool operator==(const Category &o) const
	{
		return sameEntry(o) && thumbState == o.thumbState && imagePath == o.imagePath;
	}
	bool operator!=(const Category &o) const { return !(*this == o); }
};

/* How one of the dock's requests ended (by the id the action returned). */
struct RequestOutcome {
	uint64_t id = 0;
	bool ok = false;
	QString message;
};

struct DockState {
	VeloraPhase phase = VeloraPhase_LoggedOut;
	bool busy = false;
	QString account;
	QString loginUrl;
	VeloraEnvironment environment = VeloraEnvironment_Production;
	QString customUrl;
	QString apiBaseUrl;
	bool isLive = false;
	uint64_t viewerCount = 0;
	int64_t startedAtUnix = 0;
	bool serviceActive = false;
	bool canRestore = false;
	bool pendingApply = false;
	VeloraProtocol protocol = VeloraProtocol_Rtmp;
	bool whipSupported = false;
	QString title;
	QString categorySlug;
	QString tags;
	uint64_t infoGeneration = 0;
	QString keyHint;
	VeloraErrorKind errorKind = VeloraErrorKind_None;
	QString errorText;
	int64_t retryInSecs = -1;
	QString noticeText;
	QVector<Category> categories;
	uint64_t runningRequest = 0;
	QVector<RequestOutcome> requests;
	int64_t loginSecsLeft = -1;
	int64_t keyCheckedSecsAgo = -1;
	int64_t keyCheckMaxAgeSecs = 0;
	VeloraServiceMode serviceMode = VeloraServiceMode_Other;
	QString serviceNote;

	/* The outcome of request `id`, once it has ended; nullptr before. */
	const RequestOutcome *outcome(uint64_t id) const;

	/* Copies a snapshot; unknown enum values map to safe defaults. */
	static DockState fromSnapshot(const VeloraDockState &s);
};

} // namespace velora
