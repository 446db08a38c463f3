/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
#include "dock_state.hpp"

namespace velora {

namespace {

QString str(const char *s)
{
	return s ? QString::fromUtf8(s) : QString();
}

/* A corrupt count must not make the dock read the whole address space. */
constexpr uintptr_t kMaxCategories = 100000;

} // namespace

DockState DockState::fromSnapshot(const VeloraDockState &s)
{
	DockState d;
	switch (s.phase) {
	case VeloraPhase_LoggedOut:
	case VeloraPhase_LoggingIn:
	case VeloraPhase_Ready:
		d.phase = s.phase;
		break;
	}
	d.busy = s.busy;
	d.account = str(s.account);
	d.loginUrl = str(s.login_url);
	switch (s.environment) {
	case VeloraEnvironment_Production:
	case VeloraEnvironment_Sandbox:
	case VeloraEnvironment_Custom:
		d.environment = s.environment;
		break;
	}
	d.customUrl = str(s.custom_url);
	d.apiBaseUrl = str(s.api_base_url);
	d.isLive = s.is_live;
	d.viewerCount = s.viewer_count;
	d.startedAtUnix = s.started_at_unix;
	d.serviceActive = s.service_active;
	d.canRestore = s.can_restore;
	d.pendingApply = s.pending_apply;
	switch (s.protocol) {
	case VeloraProtocol_Rtmp:
	case VeloraProtocol_Srt:
	case VeloraProtocol_Whip:
		d.protocol = s.protocol;
		break;
	}
	d.whipSupported = s.whip_supported;
	d.title = str(s.title);
	d.categorySlug = str(s.category_slug);
	d.tags = str(s.tags);
	d.infoGeneration = s.info_generation;
	d.keyHint = str(s.key_hint);
	switch (s.error_kind) {
	case VeloraErrorKind_None:
	case VeloraErrorKind_SessionExpired:
	case VeloraErrorKind_MissingPermission:
	case VeloraErrorKind_StreamingDisabled:
	case VeloraErrorKind_RateLimited:
	case VeloraErrorKind_Network:
	case VeloraErrorKind_Invalid:
	case VeloraErrorKind_Login:
	case VeloraErrorKind_Other:
		d.errorKind = s.error_kind;
		break;
	default:
		d.errorKind = VeloraErrorKind_Other;
		break;
	}
	d.errorText = str(s.error_text);
	d.retryInSecs = s.retry_in_secs;
	d.noticeText = str(s.notice_text);
	if (s.categories && s.category_count > 0 && s.category_count <= kMaxCategories) {
		d.categories.reserve(static_cast<int>(s.category_count));
		for (uintptr_t i = 0; i < s.category_count; i++)
			d.categories.push_back({str(s.categories[i].slug), str(s.categories[i].name)});
	}
	return d;
}

} // namespace velora
