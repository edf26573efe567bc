# lit configuration for netdsl's command-line tests.
# Run by hand: python3 /usr/lib/llvm-15/build/utils/lit/lit.py -v --param netdsl_obj_root=build tests/lit/<area>
import os
import shutil

import lit.formats

config.name = 'netdsl'
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = ['.test', '.netdsl']
config.excludes = ['Inputs', 'lit.cfg.py', 'CMakeLists.txt', 'README.md']
config.test_source_root = os.path.dirname(os.path.abspath(__file__))
src_root = os.path.dirname(os.path.dirname(config.test_source_root))
obj_root = os.path.abspath(lit_config.params.get('netdsl_obj_root', os.path.join(src_root, 'build')))
shared_dir = os.path.abspath(lit_config.params.get('netdsl_shared_dir', os.path.join(src_root, '..', 'shared')))
config.test_exec_root = os.path.join(obj_root, 'tests', 'lit')

bin_dir = os.path.join(obj_root, 'bin')
llvm_bin = '/usr/lib/llvm-15/bin'
config.environment['PATH'] = os.pathsep.join([bin_dir, llvm_bin, config.environment.get('PATH', os.environ.get('PATH', ''))])
config.environment['NO_COLOR'] = '1'
for var in ('HOME', 'TMPDIR', 'LANG'):
    if var in os.environ:
        config.environment[var] = os.environ[var]

config.substitutions.append(('%netdslc', os.path.join(bin_dir, 'netdslc')))
config.substitutions.append(('%netdsl', os.path.join(bin_dir, 'netdsl')))
config.substitutions.append(('%examples', os.path.join(src_root, 'examples')))
config.substitutions.append(('%srcroot', src_root))
config.substitutions.append(('%shared', shared_dir))
pscheck_home = os.path.join(obj_root, 'pscheck')
config.substitutions.append(('%pscheck', 'env PSCHECK_HOME=%s node %s --strict-strings' % (
    pscheck_home, os.path.join(shared_dir, 'tools', 'pscheck', 'pscheck.mjs'))))
if os.path.isdir(os.path.join(pscheck_home, 'node_modules')) and shutil.which('node'):
    config.available_features.add('pscheck')
if shutil.which('dot'):
    config.available_features.add('graphviz')
if os.geteuid() == 0:
    config.available_features.add('root')
