/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
/* A layout that puts its items side by side and wraps to the next line when
 * the dock is too narrow (the checklist's items: one line when they fit,
 * two in a narrow dock or a long language). */
#pragma once

#include <QLayout>
#include <QList>

namespace velora {

class FlowLayout : public QLayout {
public:
	explicit FlowLayout(QWidget *parent, int hSpacing, int vSpacing);
	~FlowLayout() override;

	void addItem(QLayoutItem *item) override;
	int count() const override;
	QLayoutItem *itemAt(int index) const override;
	QLayoutItem *takeAt(int index) override;
	Qt::Orientations expandingDirections() const override;
	bool hasHeightForWidth() const override;
	int heightForWidth(int width) const override;
	QSize minimumSize() const override;
	QSize sizeHint() const override;
	void setGeometry(const QRect &rect) override;

private:
	/* Lays the items out in `rect` (or only measures); returns the height used. */
	int arrange(const QRect &rect, bool apply) const;

	QList<QLayoutItem *> m_items;
	int m_hSpacing;
	int m_vSpacing;
};

} // namespace velora
