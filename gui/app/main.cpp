// memtide-gui [options] [TRACE|DIRECTORY]...: browse traces. Options as for
// `memtide report` where they change what is shown (suppressions, gates,
// where binaries moved to).
#include <QApplication>
#include <QCommandLineParser>
#include <cstdio>

#include "app/main_window.h"
#include "app/screenshots.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("memtide"));
  QApplication::setApplicationName(QStringLiteral("memtide-gui"));
  QApplication::setApplicationVersion(QStringLiteral(MEMTIDE_GUI_VERSION));

  QCommandLineParser parser;
  parser.setApplicationDescription(
      QStringLiteral("Browse memtide traces: memory over time, layers, leaks, call trees, "
                     "fragmentation, and two runs compared."));
  parser.addHelpOption();
  parser.addVersionOption();
  QCommandLineOption suppressions(QStringLiteral("suppressions"),
                                  QStringLiteral("Suppression rules (see memtide report --help)."),
                                  QStringLiteral("FILE"));
  QCommandLineOption fail_on(
      QStringLiteral("fail-on"),
      QStringLiteral("Gate categories, comma-separated (default: definite)."),
      QStringLiteral("LIST"));
  QCommandLineOption search_path(QStringLiteral("search-path"),
                                 QStringLiteral("Where to look for moved binaries (repeatable)."),
                                 QStringLiteral("DIR"));
  QCommandLineOption screenshots(
      QStringLiteral("screenshots"),
      QStringLiteral("Save a PNG of every page into DIR once loaded, then quit."),
      QStringLiteral("DIR"));
  parser.addOptions({suppressions, fail_on, search_path, screenshots});
  parser.addPositionalArgument(QStringLiteral("traces"),
                               QStringLiteral("Trace files or directories of traces."),
                               QStringLiteral("[TRACE|DIR...]"));
  if (!parser.parse(QApplication::arguments())) {
    std::fprintf(stderr, "memtide-gui: %s\nTry 'memtide-gui --help'.\n",
                 qPrintable(parser.errorText()));
    return 2;
  }
  if (parser.isSet(QStringLiteral("help"))) parser.showHelp(0);
  if (parser.isSet(QStringLiteral("version"))) parser.showVersion();

  memtide::gui::LoadOptions options;
  try {
    if (parser.isSet(suppressions))
      options.suppressions =
          memtide::analysis::Suppressions::load(parser.value(suppressions).toStdString());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "memtide-gui: %s\n", error.what());
    return 2;
  }
  if (parser.isSet(fail_on)) {
    options.fail_on.clear();
    for (const QString& category : parser.value(fail_on).split(',', Qt::SkipEmptyParts))
      options.fail_on.push_back(category.trimmed().toStdString());
  }
  for (const QString& dir : parser.values(search_path))
    options.search_paths.push_back(dir.toStdString());

  memtide::gui::MainWindow window(options);
  window.show();
  window.openPaths(parser.positionalArguments());
  if (parser.isSet(screenshots)) memtide::gui::takeScreenshots(window, parser.value(screenshots));
  return QApplication::exec();
}
