// SPDX-License-Identifier: MIT
// Qt Quick Test runner for tst_*.qml: the BlightTest singleton hands real
// sockets to QML, and Oxide.Blight.Transport comes from the build tree.
#include "transportfixture.h"

#include <QtQml/QQmlEngine>
#include <QtQuickTest/quicktest.h>

class Setup : public QObject
{
    Q_OBJECT

public:
    Setup() { TransportFixture::registerQmlSingleton(); }

public Q_SLOTS:
    void qmlEngineAvailable(QQmlEngine *engine)
    {
        // QML_IMPORT_PATH (set by ctest) already points here; this also works from a shell.
        engine->addImportPath(QStringLiteral(BLIGHT_BUILD_QML_DIR));
    }
};

QUICK_TEST_MAIN_WITH_SETUP(tst_qml, Setup)

#include "tst_qml.moc"
