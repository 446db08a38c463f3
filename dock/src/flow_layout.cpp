/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
#include "flow_layout.hpp"

#include <QWidget>

#include <algorithm>

namespace velora {

FlowLayout::FlowLayout(QWidget *parent, int hSpacing, int vSpacing)
	: QLayout(parent), m_hSpacing(hSpacing), m_vSpacing(vSpacing)
{
	setContentsMargins(0, 0, 0, 0);
}

FlowLayout::~FlowLayout()
{
	while (QLayoutItem *item = takeAt(0))
		delete item;
}

void FlowLayout::addItem(QLayoutItem *item)
{
	m_items.append(item);
}

int FlowLayout::count() const
{
	return static_cast<int>(m_items.size());
}

QLayoutItem *FlowLayout::itemAt(int index) const
{
	return index >= 0 && index < m_items.size() ? m_items.at(index) : nullptr;
}

QLayoutItem *FlowLayout::takeAt(int index)
{
	return index >= 0 && index < m_items.size() ? m_items.takeAt(index) : nullptr;
}

Qt::Orientations FlowLayout::expandingDirections() const
{
	return {};
}

bool FlowLayout::hasHeightForWidth() const
{
	return true;
}

int FlowLayout::heightForWidth(int width) const
{
	return arrange(QRect(0, 0, width, 0), false);
}

QSize FlowLayout::minimumSize() const
{
	QSize size;
	for (const QLayoutItem *item : m_items) {
		if (!item->isEmpty())
			size = size.expandedTo(item->minimumSize());
	}
	const QMargins m = contentsMargins();
	return size + QSize(m.left() + m.right(), m.top() + m.bottom());
}

QSize FlowLayout::sizeHint() const
{
	return minimumSize();
}

void FlowLayout::setGeometry(const QRect &rect)
{
	QLayout::setGeometry(rect);
	arrange(rect, true);
}

int FlowLayout::arrange(const QRect &rect, bool apply) const
{
	const QMargins m = contentsMargins();
	const QRect area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom());
	int x = area.x();
	int y = area.y();
	int lineHeight = 0;
	for (QLayoutItem *item : m_items) {
		if (item->isEmpty())
			continue;
		const QSize hint = item->sizeHint();
		int next = x + hint.width();
		if (next > area.right() + 1 && lineHeight > 0) {
			x = area.x();
			y += lineHeight + m_vSpacing;
			next = x + hint.width();
			lineHeight = 0;
		}
		if (apply)
			item->setGeometry(QRect(QPoint(x, y), QSize(std::min(hint.width(), area.width()), hint.height())));
		x = next + m_hSpacing;
		lineHeight = std::max(lineHeight, hint.height());
	}
	return y + lineHeight - rect.y() + m.bottom();
}

} // namespace velora
