/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
#include "frontend.hpp"

#include <dlfcn.h>

#include <cstdio>

namespace velora {

namespace {

template<typename Fn> void lookup(Fn &out, const char *name)
{
	/* POSIX guarantees that a data pointer from dlsym converts to a function pointer. */
	out = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
}

} // namespace

Frontend Frontend::resolve()
{
	Frontend f;
	lookup(f.get_main_window, "obs_frontend_get_main_window");
	lookup(f.add_tools_menu_item, "obs_frontend_add_tools_menu_item");
	lookup(f.add_dock, "obs_frontend_add_dock");
	lookup(f.add_dock_by_id, "obs_frontend_add_dock_by_id");
	lookup(f.get_user_config, "obs_frontend_get_user_config");
	lookup(f.get_global_config, "obs_frontend_get_global_config");
	lookup(f.config_get_string, "config_get_string");
	return f;
}

QByteArray Frontend::savedDockState() const
{
	if (!config_get_string)
		return QByteArray();
	for (auto get : {get_user_config, get_global_config}) {
		void *config = get ? get() : nullptr;
		const char *state = config ? config_get_string(config, "BasicWindow", "DockState") : nullptr;
		if (state && *state)
			return QByteArray::fromBase64(QByteArray(state));
	}
	return QByteArray();
}

void log(LogLevel level, const QString &message)
{
	using BlogFn = void (*)(int, const char *, ...);
	static const BlogFn blog = reinterpret_cast<BlogFn>(dlsym(RTLD_DEFAULT, "blog"));
	const QByteArray utf8 = message.toUtf8();
	if (blog)
		blog(static_cast<int>(level), "[velora] dock: %s", utf8.constData());
	else
		std::fprintf(stderr, "[velora] dock: %s\n", utf8.constData());
}

} // namespace velora
