// SPDX-License-Identifier: MIT
// Replays every seed in corpus/<target>/ and every past finding in
// regressions/<target>/ through that fuzz target's harness, in a normal build:
// a crash the fuzzer once found stays fixed.
#include "fuzztargets.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtTest/QtTest>

class tst_FuzzReplay : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void corpusPresent_data();
    void corpusPresent();
    void replay_data();
    void replay();
};

namespace {

QDir targetDir(const QString &kind, const char *target)
{
    return QDir(QDir(QStringLiteral(BLIGHT_FUZZ_DIR)).filePath(kind + u'/' + QLatin1StringView(target)));
}

QStringList inputsIn(const QDir &dir)
{
    QStringList names = dir.entryList(QDir::Files, QDir::Name);
    names.removeIf([](const QString &name) { return name.endsWith(u".md"); });
    return names;
}

} // namespace

void tst_FuzzReplay::corpusPresent_data()
{
    QTest::addColumn<QString>("directory");
    for (const BlightFuzz::Target &target : BlightFuzz::targets)
        QTest::newRow(target.name) << targetDir(QStringLiteral("corpus"), target.name).path();
}

// A lost corpus would make replay pass on nothing.
void tst_FuzzReplay::corpusPresent()
{
    QFETCH(QString, directory);
    const int seeds = int(inputsIn(QDir(directory)).size());
    QVERIFY2(seeds >= 10,
             qPrintable(
                 QStringLiteral("only %1 seeds in %2: run tests/fuzz/make_corpus.py").arg(seeds).arg(directory)));
}

void tst_FuzzReplay::replay_data()
{
    QTest::addColumn<int>("target");
    QTest::addColumn<QString>("path");
    for (size_t i = 0; i < BlightFuzz::targets.size(); ++i) {
        const char *name = BlightFuzz::targets[i].name;
        for (const QString &kind : {QStringLiteral("corpus"), QStringLiteral("regressions")}) {
            const QDir dir = targetDir(kind, name);
            for (const QString &input : inputsIn(dir))
                QTest::addRow("%s/%s/%s", qPrintable(kind), name, qPrintable(input)) << int(i) << dir.filePath(input);
        }
    }
}

void tst_FuzzReplay::replay()
{
    QFETCH(int, target);
    QFETCH(QString, path);
    QFile file(path);
    QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(file.errorString()));
    const QByteArray input = file.readAll();
    // Any violated invariant or sanitizer report aborts the process.
    const auto oneInput = BlightFuzz::targets[size_t(target)].oneInput;
    QCOMPARE(oneInput(reinterpret_cast<const uint8_t *>(input.constData()), size_t(input.size())), 0);
}

QTEST_GUILESS_MAIN(tst_FuzzReplay)
#include "tst_fuzzreplay.moc"
