/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
/* The dock's own work on OBS's UI thread (rendering a snapshot, decoding a
 * picture) counts in GetStatus.uiThreadMaxMs like the core's calls. The core
 * reads the thread's clock and CPU use before (ui_mark) and after
 * (report_ui_time), so time the machine gave to other processes is not
 * counted as the dock's. */
#pragma once

#include "velora.h"

namespace velora {

/* Measures its own lifetime; `what` (a literal) names the work in the
 * core's log when it took longer than a frame. */
class UiTime {
public:
	UiTime(const VeloraCoreApi *api, const char *what)
		: m_api(api && api->ui_mark && api->report_ui_time ? api : nullptr),
		  m_what(what),
		  m_mark(m_api ? m_api->ui_mark() : VeloraUiMark{})
	{
	}
	~UiTime()
	{
		if (m_api && m_mark.valid)
			m_api->report_ui_time(m_mark, m_what);
	}
	UiTime(const UiTime &) = delete;
	UiTime &operator=(const UiTime &) = delete;

private:
	const VeloraCoreApi *m_api;
	const char *m_what;
	VeloraUiMark m_mark;
};

} // namespace velora
