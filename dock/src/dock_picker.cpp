/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
/* The category picker's list and pictures: decoded one per event-loop turn,
 * the placeholder meanwhile. */
#include "velora_dock.hpp"

#include "ui_time.hpp"
#include "ui_util.hpp"

#include <QAbstractItemView>
#include <QComboBox>
#include <QCompleter>
#include <QLabel>
#include <QLineEdit>
#include <QSignalBlocker>

namespace velora {

bool VeloraDock::renderCategories()
{
	/* Categories not loaded (yet): the baseline's slug is shown as an extra item. */
	bool baseListed = m_baseCategory.isEmpty();
	for (const Category &c : m_state.categories)
		baseListed = baseListed || c.slug == m_baseCategory;
	const int wanted = static_cast<int>(m_state.categories.size()) + (baseListed ? 0 : 1);
	bool sameEntries = m_shownCategories.size() == m_state.categories.size();
	for (int i = 0; sameEntries && i < m_shownCategories.size(); i++)
		sameEntries = m_shownCategories[i].sameEntry(m_state.categories[i]);
	if (sameEntries && m_category->count() == wanted && (baseListed || m_category->findData(m_baseCategory) >= 0)) {
		/* Same list: only pictures may have changed (renderCategoryIcons). */
		m_shownCategories = m_state.categories;
		return false;
	}

	/* Refilling must not disturb someone typing in the field. */
	QLineEdit *edit = m_category->lineEdit();
	const QString typed = edit->text();
	const int cursor = edit->cursorPosition();
	QSignalBlocker block(m_category);
	m_category->clear();
	for (const Category &c : m_state.categories)
		m_category->addItem(c.name.isEmpty() ? c.slug : c.name, c.slug);
	if (!baseListed)
		m_category->addItem(m_baseCategory, m_baseCategory);
	m_category->setCurrentIndex(-1);
	m_category->setEditText(typed);
	edit->setCursorPosition(edit->hasFocus() ? cursor : 0);
	m_shownCategories = m_state.categories;
	return true;
}

QIcon VeloraDock::categoryIcon(const QString &slug) const
{
	const int i = m_categoryIndex.value(slug, -1);
	if (i >= 0 && i < m_state.categories.size()) {
		const Category &c = m_state.categories[i];
		if (c.thumbState == VeloraThumbState_Ready) {
			if (const QIcon *icon = m_pictures.icon(c.imagePath))
				return *icon;
		}
	}
	return m_placeholder;
}

void VeloraDock::renderCategoryIcons()
{
	/* Pictures that arrived (or went): the lists draw them (the delegate
	 * looks them up), nothing in the combo box's model changes. */
	m_categoryIndex.clear();
	for (int i = 0; i < m_state.categories.size(); i++)
		m_categoryIndex.insert(m_state.categories[i].slug, i);
	m_category->view()->viewport()->update();
	if (QCompleter *c = m_category->completer())
		c->popup()->viewport()->update();
	queuePictures();
}

void VeloraDock::renderCategoryPicture()
{
	/* The picture of what the field names now (typed or picked). */
	const QString typed = m_category->currentText().trimmed();
	const int index = typed.isEmpty() ? -1 : m_category->findText(typed, Qt::MatchFixedString);
	const QIcon icon = index >= 0 ? categoryIcon(m_category->itemData(index).toString()) : m_placeholder;
	m_categoryPicture->setPixmap(icon.pixmap(kPreview));
	m_categoryPicture->setToolTip(index >= 0 ? m_category->itemText(index) : QString());
}

void VeloraDock::queuePictures()
{
	if (!m_pictureTimer.isActive()) {
		for (const Category &c : m_state.categories) {
			if (c.thumbState == VeloraThumbState_Ready && !m_pictures.tried(c.imagePath)) {
				m_pictureTimer.start();
				break;
			}
		}
	}
}

void VeloraDock::decodeNextPicture()
{
	/* One picture per event-loop turn: the UI thread never holds a batch. */
	if (!m_built || !m_api)
		return;
	for (const Category &c : m_state.categories) {
		if (c.thumbState != VeloraThumbState_Ready || m_pictures.tried(c.imagePath))
			continue;
		const UiTime held(m_api, "picture decoding");
		m_pictures.load(c.imagePath);
		renderCategoryIcons(); /* queues the next one */
		renderCategoryPicture();
		return;
	}
}

} // namespace velora
