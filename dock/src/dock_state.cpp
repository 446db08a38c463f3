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
constexpr uintptr_t kMaxRequests = 64;

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
	case VeloraErrorKind_Paced:
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
		for (uintptr_t i = 0; i < s.category_count; i++) {
			const VeloraCategory &c = s.categories[i];
			Category cat;
			cat.slug = str(c.slug);
			cat.name = str(c.name);
			switch (c.thumb_state) {
			case VeloraThumbState_Ready:
				cat.imagePath = str(c.image_path);
				cat.thumbState = cat.imagePath.isEmpty() ? VeloraThumbState_Failed : c.thumb_state;
				break;
			case VeloraThumbState_None:
			case VeloraThumbState_Loading:
			case VeloraThumbState_Failed:
				cat.thumbState = c.thumb_state;
				break;
			default:
				cat.thumbState = VeloraThumbState_Failed;
				break;
			}
			d.categories.push_back(cat);
		}
	}
	d.runningRequest = s.running_request;
	if (s.requests && s.request_count > 0 && s.request_count <= kMaxRequests) {
		for (uintptr_t i = 0; i < s.request_count; i++)
			d.requests.push_back({s.requests[i].id, s.requests[i].ok, str(s.requests[i].message)});
	}
	d.loginSecsLeft = s.login_secs_left;
	d.keyCheckedSecsAgo = s.key_checked_secs_ago;
	d.keyCheckMaxAgeSecs = s.key_check_max_age_secs;
	switch (s.service_mode) {
	case VeloraServiceMode_Velora:
	case VeloraServiceMode_ViaCustom:
	case VeloraServiceMode_Mangled:
	case VeloraServiceMode_Other:
		d.serviceMode = s.service_mode;
		break;
	default:
		d.serviceMode = VeloraServiceMode_Other;
		break;
	}
	d.serviceNote = str(s.service_note);
	return d;
}

const RequestOutcome *DockState::outcome(uint64_t id) const
{
	if (id == 0)
		return nullptr;
	for (const RequestOutcome &o : requests) {
		if (o.id == id)
			return &o;
	}
	return nullptr;
}

} // namespace velora
