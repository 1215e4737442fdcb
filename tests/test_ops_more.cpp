// keras.ops (graph/ops_more.cpp) and px::ops::grad (graph/gradients.cpp):
//  - KerasOps: each op in the table against NumPy's value on fixed inputs (written by
//    NumPy 1.24), every name checked against Keras 3.15.1's keras.ops list and counted;
//  - first and second derivatives of every op in the table through ops::grad, against
//    central differences;
//  - ops::grad itself: higher derivatives, variables, unconnected sources, errors; scalar
//    arithmetic on symbolic tensors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <plexus.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "graph/function.hpp"
#include "graph/ops.hpp"

namespace px = plexus;
namespace o = plexus::ops;
using ST = px::SymbolicTensor;
using px::Shape;
using px::Tensor;

namespace {

Tensor make(const Shape& shape, const std::vector<double>& values) {
  Tensor t;
  px::resize_to(t, shape);
  for (std::size_t i = 0; i < values.size(); ++i) t.data()[i] = float(values[i]);
  return t;
}

// The five inputs of the table: a, b (any sign), p (positive), u (in (-1, 1)), g (> 1).
const std::vector<std::vector<double>>& input_values() {
  static const std::vector<std::vector<double>> v = {{0.3, -1.2, 0.8, 1.4, -0.4, 0.1},
                                                     {0.6, 0.7, -0.9, 1.1, 2.0, -0.3},
                                                     {0.2, 0.5, 0.9, 1.3, 2.5, 0.7},
                                                     {0.2, -0.5, 0.9, -0.3, 0.6, 0.1},
                                                     {1.2, 1.5, 2.9, 1.3, 2.5, 1.7}};
  return v;
}

struct OpCase {
  std::string keras_name;
  std::function<ST(const ST&, const ST&, const ST&, const ST&, const ST&)> build;
  Shape shape;
  std::vector<double> expected;
};

std::vector<OpCase> op_cases() {
  return {
      {"abs", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::abs(a)); }, {2,3}, {0.3, 1.2, 0.8, 1.4, 0.4, 0.1}},
      {"absolute", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::absolute(a)); }, {2,3}, {0.3, 1.2, 0.8, 1.4, 0.4, 0.1}},
      {"fabs", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::fabs(a)); }, {2,3}, {0.3, 1.2, 0.8, 1.4, 0.4, 0.1}},
      {"add", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::add(a, b)); }, {2,3}, {0.8999999999999999, -0.5, -0.09999999999999998, 2.5, 1.6, -0.19999999999999998}},
      {"subtract", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::subtract(a, b)); }, {2,3}, {-0.3, -1.9, 1.7000000000000002, 0.2999999999999998, -2.4, 0.4}},
      {"multiply", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::multiply(a, b)); }, {2,3}, {0.18, -0.84, -0.7200000000000001, 1.54, -0.8, -0.03}},
      {"divide", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::divide(a, b)); }, {2,3}, {0.5, -1.7142857142857144, -0.888888888888889, 1.2727272727272725, -0.2, -0.33333333333333337}},
      {"true_divide", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::true_divide(a, b)); }, {2,3}, {0.5, -1.7142857142857144, -0.888888888888889, 1.2727272727272725, -0.2, -0.33333333333333337}},
      {"power", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::power(p, b)); }, {2,3}, {0.3807307877431757, 0.6155722066724582, 1.0994658424513493, 1.3345587206955016, 6.25, 1.1129370181006415}},
      {"negative", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::negative(a)); }, {2,3}, {-0.3, 1.2, -0.8, -1.4, 0.4, -0.1}},
      {"exp", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::exp(a)); }, {2,3}, {1.3498588075760032, 0.3011942119122021, 2.225540928492468, 4.0551999668446745, 0.6703200460356392, 1.1051709180756477}},
      {"exp2", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::exp2(a)); }, {2,3}, {1.2311444133449163, 0.43527528164806206, 1.7411011265922482, 2.6390158215457884, 0.757858283255199, 1.0717734625362931}},
      {"expm1", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::expm1(a)); }, {2,3}, {0.3498588075760031, -0.6988057880877979, 1.2255409284924677, 3.055199966844674, -0.32967995396436073, 0.10517091807564763}},
      {"log", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::log(p)); }, {2,3}, {-1.6094379124341003, -0.6931471805599453, -0.10536051565782628, 0.26236426446749106, 0.916290731874155, -0.35667494393873245}},
      {"log1p", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::log1p(p)); }, {2,3}, {0.18232155679395465, 0.4054651081081644, 0.6418538861723948, 0.832909122935104, 1.252762968495368, 0.5306282510621704}},
      {"log2", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::log2(p)); }, {2,3}, {-2.321928094887362, -1.0, -0.15200309344504997, 0.37851162325372983, 1.3219280948873624, -0.5145731728297583}},
      {"log10", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::log10(p)); }, {2,3}, {-0.6989700043360187, -0.3010299956639812, -0.045757490560675115, 0.11394335230683679, 0.3979400086720376, -0.15490195998574322}},
      {"sqrt", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::sqrt(p)); }, {2,3}, {0.4472135954999579, 0.7071067811865476, 0.9486832980505138, 1.140175425099138, 1.5811388300841898, 0.8366600265340756}},
      {"rsqrt", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::rsqrt(p)); }, {2,3}, {2.23606797749979, 1.414213562373095, 1.0540925533894598, 0.8770580193070292, 0.6324555320336759, 1.1952286093343936}},
      {"square", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::square(a)); }, {2,3}, {0.09, 1.44, 0.6400000000000001, 1.9599999999999997, 0.16000000000000003, 0.010000000000000002}},
      {"cbrt", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::cbrt(a)); }, {2,3}, {0.6694329500821695, -1.0626585691826111, 0.928317766722556, 1.1186889420813968, -0.7368062997280774, 0.464158883361278}},
      {"reciprocal", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::reciprocal(b)); }, {2,3}, {1.6666666666666667, 1.4285714285714286, -1.1111111111111112, 0.9090909090909091, 0.5, -3.3333333333333335}},
      {"sin", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::sin(a)); }, {2,3}, {0.2955202066613396, -0.9320390859672263, 0.7173560908995229, 0.9854497299884601, -0.3894183423086505, 0.09983341664682817}},
      {"cos", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::cos(a)); }, {2,3}, {0.9553364891256061, 0.3623577544766737, 0.6967067093471655, 0.16996714290024104, 0.921060994002885, 0.9950041652780256}},
      {"tan", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::tan(a)); }, {2,3}, {0.3093362496096232, -2.5721516221263183, 1.0296385570503641, 5.797883715482887, -0.4227932187381618, 0.10033467208545055}},
      {"arcsin", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::arcsin(u)); }, {2,3}, {0.2013579207903308, -0.5235987755982989, 1.1197695149986342, -0.30469265401539747, 0.6435011087932843, 0.1001674211615598}},
      {"arccos", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::arccos(u)); }, {2,3}, {1.3694384060045657, 2.0943951023931957, 0.45102681179626236, 1.8754889808102941, 0.9272952180016123, 1.4706289056333368}},
      {"arctan", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::arctan(a)); }, {2,3}, {0.2914567944778671, -0.8760580505981934, 0.6747409422235526, 0.9505468408120751, -0.3805063771123649, 0.09966865249116204}},
      {"sinh", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::sinh(a)); }, {2,3}, {0.3045202934471426, -1.5094613554121727, 0.8881059821876232, 1.904301501451534, -0.41075232580281557, 0.10016675001984404}},
      {"cosh", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::cosh(a)); }, {2,3}, {1.0453385141288605, 1.8106555673243747, 1.3374349463048447, 2.1508984653931402, 1.081072371838455, 1.0050041680558035}},
      {"tanh", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::tanh(a)); }, {2,3}, {0.2913126124515909, -0.8336546070121552, 0.664036770267849, 0.8853516482022624, -0.3799489622552249, 0.09966799462495582}},
      {"arcsinh", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::arcsinh(a)); }, {2,3}, {0.29567304756342244, -1.015973134179692, 0.7326682560454109, 1.1379820462933674, -0.3900353197707153, 0.09983407889920756}},
      {"arccosh", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::arccosh(g)); }, {2,3}, {0.6223625037147786, 0.9624236501192069, 1.726710865622892, 0.7564329108569596, 1.566799236972411, 1.123230982587296}},
      {"arctanh", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::arctanh(u)); }, {2,3}, {0.2027325540540822, -0.5493061443340549, 1.4722194895832204, -0.3095196042031117, 0.6931471805599453, 0.10033534773107558}},
      {"arctan2", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::arctan2(a, b)); }, {2,3}, {0.46364760900080615, -1.0427218783685368, 2.4149503129080676, 0.9048270894157866, -0.19739555984988078, 2.819842099193151}},
      {"hypot", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::hypot(a, b)); }, {2,3}, {0.6708203932499369, 1.3892443989449803, 1.2041594578792296, 1.7804493814764855, 2.039607805437114, 0.31622776601683794}},
      {"erf", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::erf(a)); }, {2,3}, {0.3286267594591274, -0.9103139782296353, 0.7421009647076605, 0.9522851197626487, -0.42839235504666845, 0.1124629160182849}},
      {"erfc", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::erfc(a)); }, {2,3}, {0.6713732405408726, 1.9103139782296354, 0.2578990352923395, 0.047714880237351265, 1.4283923550466684, 0.8875370839817152}},
      {"sign", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::sign(a)); }, {2,3}, {1.0, -1.0, 1.0, 1.0, -1.0, 1.0}},
      {"floor", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::floor(o::multiply(a, 3.0f))); }, {2,3}, {0.0, -4.0, 2.0, 4.0, -2.0, 0.0}},
      {"ceil", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::ceil(o::multiply(a, 3.0f))); }, {2,3}, {1.0, -3.0, 3.0, 5.0, -1.0, 1.0}},
      {"round", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::round(o::multiply(a, 4.0f))); }, {2,3}, {1.0, -5.0, 3.0, 6.0, -2.0, 0.0}},
      {"trunc", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::trunc(o::multiply(a, 3.0f))); }, {2,3}, {0.0, -3.0, 2.0, 4.0, -1.0, 0.0}},
      {"floor_divide", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::floor_divide(a, b)); }, {2,3}, {0.0, -2.0, -1.0, 1.0, -1.0, -1.0}},
      {"mod", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::mod(a, b)); }, {2,3}, {0.3, 0.19999999999999996, -0.09999999999999998, 0.2999999999999998, 1.6, -0.19999999999999998}},
      {"maximum", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::maximum(a, b)); }, {2,3}, {0.6, 0.7, 0.8, 1.4, 2.0, 0.1}},
      {"minimum", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::minimum(a, b)); }, {2,3}, {0.3, -1.2, -0.9, 1.1, -0.4, -0.3}},
      {"fmax", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::fmax(a, b)); }, {2,3}, {0.6, 0.7, 0.8, 1.4, 2.0, 0.1}},
      {"fmin", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::fmin(a, b)); }, {2,3}, {0.3, -1.2, -0.9, 1.1, -0.4, -0.3}},
      {"logaddexp", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::logaddexp(a, b)); }, {2,3}, {1.154355244468527, 0.8393867582829606, 0.9677860293862659, 1.954355244468527, 2.08683615215395, 0.6130152523999526}},
      {"logaddexp2", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::logaddexp2(a, b)); }, {2,3}, {1.457783896672031, 1.0424903070359992, 1.187126598259208, 2.2577838966720307, 2.2503123005377805, 0.9138187665642793}},
      {"divide_no_nan", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::divide_no_nan(a, o::relu(b))); }, {2,3}, {0.5, -1.7142857142857144, 0.0, 1.2727272727272725, -0.2, 0.0}},
      {"heaviside", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::heaviside(o::round(a), o::constant(0.5f))); }, {2,3}, {0.5, 0.0, 1.0, 1.0, 0.5, 0.5}},
      {"equal", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::equal(o::round(a), o::round(b))); }, {2,3}, {0.0, 0.0, 0.0, 1.0, 0.0, 1.0}},
      {"not_equal", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::not_equal(o::round(a), o::round(b))); }, {2,3}, {1.0, 1.0, 1.0, 0.0, 1.0, 0.0}},
      {"greater", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::greater(a, b)); }, {2,3}, {0.0, 0.0, 1.0, 1.0, 0.0, 1.0}},
      {"greater_equal", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::greater_equal(a, b)); }, {2,3}, {0.0, 0.0, 1.0, 1.0, 0.0, 1.0}},
      {"less", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::less(a, b)); }, {2,3}, {1.0, 1.0, 0.0, 0.0, 1.0, 0.0}},
      {"less_equal", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::less_equal(a, b)); }, {2,3}, {1.0, 1.0, 0.0, 0.0, 1.0, 0.0}},
      {"logical_and", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::logical_and(o::relu(a), o::relu(b))); }, {2,3}, {1.0, 0.0, 0.0, 1.0, 0.0, 0.0}},
      {"logical_or", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::logical_or(o::relu(a), o::relu(b))); }, {2,3}, {1.0, 1.0, 1.0, 1.0, 1.0, 1.0}},
      {"logical_xor", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::logical_xor(o::relu(a), o::relu(b))); }, {2,3}, {0.0, 1.0, 1.0, 0.0, 1.0, 1.0}},
      {"logical_not", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::logical_not(o::relu(a))); }, {2,3}, {0.0, 1.0, 0.0, 0.0, 1.0, 0.0}},
      {"isclose", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::isclose(a, o::add(a, 1e-9f))); }, {2,3}, {1.0, 1.0, 1.0, 1.0, 1.0, 1.0}},
      {"isnan", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::isnan(o::log(a))); }, {2,3}, {0.0, 1.0, 0.0, 0.0, 1.0, 0.0}},
      {"isinf", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::isinf(o::divide(a, o::round(b)))); }, {2,3}, {0.0, 0.0, 0.0, 0.0, 0.0, 1.0}},
      {"isfinite", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::isfinite(o::divide(a, o::round(b)))); }, {2,3}, {1.0, 1.0, 1.0, 1.0, 1.0, 0.0}},
      {"isposinf", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::isposinf(o::divide(a, o::round(b)))); }, {2,3}, {0.0, 0.0, 0.0, 0.0, 0.0, 0.0}},
      {"isneginf", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::isneginf(o::divide(a, o::round(b)))); }, {2,3}, {0.0, 0.0, 0.0, 0.0, 0.0, 1.0}},
      {"signbit", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::signbit(a)); }, {2,3}, {0.0, 1.0, 0.0, 0.0, 1.0, 0.0}},
      {"nan_to_num", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::nan_to_num(o::divide(a, o::round(b)), 0.0f, 9.0f, -9.0f)); }, {2,3}, {0.3, -1.2, -0.8, 1.4, -0.2, -9.0}},
      {"deg2rad", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::deg2rad(a)); }, {2,3}, {0.005235987755982988, -0.020943951023931952, 0.013962634015954637, 0.024434609527920613, -0.006981317007977318, 0.0017453292519943296}},
      {"rad2deg", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::rad2deg(a)); }, {2,3}, {17.188733853924695, -68.75493541569878, 45.836623610465864, 80.21409131831524, -22.918311805232932, 5.729577951308233}},
      {"sinc", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::sinc(a)); }, {2,3}, {0.8583936913341398, -0.1559148806314398, 0.23387232094715976, -0.21623620818304484, 0.756826728640657, 0.9836316430834661}},
      {"where", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::where(o::greater(a, b), a, b)); }, {2,3}, {0.6, 0.7, 0.8, 1.4, 2.0, 0.1}},
      {"clip", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::clip(a, -0.5f, 0.5f)); }, {2,3}, {0.3, -0.5, 0.5, 0.5, -0.4, 0.1}},
      {"relu", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::relu(a)); }, {2,3}, {0.3, 0.0, 0.8, 1.4, 0.0, 0.1}},
      {"relu6", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::relu6(o::multiply(a, 5.0f))); }, {2,3}, {1.5, 0.0, 4.0, 6.0, 0.0, 0.5}},
      {"sigmoid", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::sigmoid(a)); }, {2,3}, {0.574442516811659, 0.23147521650098238, 0.6899744811276125, 0.8021838885585817, 0.401312339887548, 0.52497918747894}},
      {"softplus", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::softplus(a)); }, {2,3}, {0.8543552444685272, 0.2632824673380312, 1.1711006659477778, 1.620417409918451, 0.5130152523999525, 0.744396660073571}},
      {"softsign", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::softsign(a)); }, {2,3}, {0.23076923076923075, -0.5454545454545454, 0.4444444444444445, 0.5833333333333334, -0.28571428571428575, 0.09090909090909091}},
      {"silu", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::silu(a)); }, {2,3}, {0.1723327550434977, -0.27777025980117886, 0.55197958490209, 1.1230574439820142, -0.1605249359550192, 0.052497918747894}},
      {"swish", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::swish(a)); }, {2,3}, {0.1723327550434977, -0.27777025980117886, 0.55197958490209, 1.1230574439820142, -0.1605249359550192, 0.052497918747894}},
      {"log_sigmoid", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::log_sigmoid(a)); }, {2,3}, {-0.5543552444685271, -1.4632824673380311, -0.3711006659477777, -0.22041740991845094, -0.9130152523999526, -0.6443966600735709}},
      {"elu", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::elu(a)); }, {2,3}, {0.3, -0.6988057880877979, 0.8, 1.4, -0.32967995396436073, 0.1}},
      {"selu", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::selu(a)); }, {2,3}, {0.31521029620664415, -1.2285699954174891, 0.8405607898843844, 1.4709813822976725, -0.579610109755336, 0.10507009873554805}},
      {"celu", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::celu(a, 0.5f)); }, {2,3}, {0.3, -0.4546410233552937, 0.8, 1.4, -0.27533551794138916, 0.1}},
      {"leaky_relu", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::leaky_relu(a)); }, {2,3}, {0.3, -0.24, 0.8, 1.4, -0.08000000000000002, 0.1}},
      {"gelu", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::gelu(a)); }, {2,3}, {0.18537342665668577, -0.13808360426605, 0.6305156811332827, 1.2869406770727205, -0.13783130335587032, 0.053982783727702904}},
      {"hard_sigmoid", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::hard_sigmoid(o::multiply(a, 3.0f))); }, {2,3}, {0.65, 0.0, 0.9, 1.0, 0.3, 0.5499999999999999}},
      {"hard_silu", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::hard_silu(o::multiply(a, 3.0f))); }, {2,3}, {0.585, -0.0, 2.1600000000000006, 4.199999999999999, -0.36000000000000004, 0.165}},
      {"hard_swish", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::hard_swish(a)); }, {2,3}, {0.16499999999999998, -0.36000000000000004, 0.5066666666666667, 1.0266666666666666, -0.17333333333333334, 0.05166666666666667}},
      {"hard_tanh", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::hard_tanh(a)); }, {2,3}, {0.3, -1.0, 0.8, 1.0, -0.4, 0.1}},
      {"hard_shrink", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::hard_shrink(a)); }, {2,3}, {0.0, -1.2, 0.8, 1.4, 0.0, 0.0}},
      {"soft_shrink", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::soft_shrink(a)); }, {2,3}, {0.0, -0.7, 0.30000000000000004, 0.8999999999999999, 0.0, 0.0}},
      {"tanh_shrink", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::tanh_shrink(a)); }, {2,3}, {0.008687387548409087, -0.36634539298784474, 0.13596322973215103, 0.5146483517977375, -0.020051037744775124, 0.0003320053750441865}},
      {"squareplus", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::squareplus(a)); }, {2,3}, {1.161187420807834, 0.56619037896906, 1.477032961426901, 1.9206555615733703, 0.8198039027185571, 1.0512492197250394}},
      {"sparse_plus", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::sparse_plus(a)); }, {2,3}, {0.42250000000000004, 0.0, 0.81, 1.4, 0.09, 0.30250000000000005}},
      {"sparse_sigmoid", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::sparse_sigmoid(a)); }, {2,3}, {0.65, 0.0, 0.9, 1.0, 0.3, 0.55}},
      {"threshold", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::threshold(a, 0.2f, -1.0f)); }, {2,3}, {0.3, -1.0, 0.8, 1.4, -1.0, -1.0}},
      {"glu", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::glu(o::concatenate({a, b}, -1))); }, {2,3}, {0.1936968918677386, -0.8018253266017993, 0.2312403978999968, 1.0503641478331647, -0.35231883119115304, 0.0425557483188341}},
      {"softmax", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::softmax(a)); }, {2,3}, {0.3482074278837349, 0.07769557914857059, 0.5740969929676946, 0.6954921834932196, 0.11496408469823288, 0.18954373180854767}},
      {"log_softmax", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::log_softmax(a)); }, {2,3}, {-1.0549569196419906, -2.554956919641991, -0.5549569196419906, -0.3631355063687536, -2.163135506368753, -1.6631355063687534}},
      {"normalize", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::normalize(a)); }, {2,3}, {0.20365326999063918, -0.8146130799625567, 0.5430753866417045, 0.9592641937585443, -0.2740754839310127, 0.06851887098275318}},
      {"sum", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::sum(a, {1})); }, {2}, {-0.09999999999999987, 1.0999999999999999}},
      {"mean", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::mean(a, {0})); }, {3}, {0.85, -0.8, 0.45}},
      {"max", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::max(a, {1})); }, {2}, {0.8, 1.4}},
      {"amax", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::amax(a)); }, {}, {1.4}},
      {"min", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::min(a, {1})); }, {2}, {-1.2, -0.4}},
      {"amin", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::amin(a, {0}, true)); }, {1,3}, {0.3, -1.2, 0.1}},
      {"prod", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::prod(a, {1})); }, {2}, {-0.288, -0.055999999999999994}},
      {"var", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::var(a, {1})); }, {2}, {0.7222222222222223, 0.5755555555555555}},
      {"std", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::std(a)); }, {}, {0.8299933065325821}},
      {"ptp", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::ptp(a, {0})); }, {3}, {1.0999999999999999, 0.7999999999999999, 0.7000000000000001}},
      {"logsumexp", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::logsumexp(a, {1})); }, {2}, {1.3549569196419906, 1.7631355063687535}},
      {"any", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::any(o::relu(a), {0})); }, {3}, {1.0, 0.0, 1.0}},
      {"all", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::all(o::relu(a), {1})); }, {2}, {0.0, 0.0}},
      {"count_nonzero", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::count_nonzero(o::relu(a), {1})); }, {2}, {2.0, 2.0}},
      {"average", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::average(a, {1}, o::constant(px::Tensor{1.0f, 2.0f, 3.0f}))); }, {2}, {0.050000000000000044, 0.15}},
      {"norm", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::norm(a, 1.0f, {1})); }, {2}, {2.3, 1.9}},
      {"argmax", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::argmax(a)); }, {2}, {2.0, 0.0}},
      {"argmin", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::argmin(a, 0)); }, {3}, {0.0, 0.0, 1.0}},
      {"cumsum", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::cumsum(a, 1)); }, {2,3}, {0.3, -0.8999999999999999, -0.09999999999999987, 1.4, 0.9999999999999999, 1.0999999999999999}},
      {"diff", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::diff(a)); }, {2,2}, {-1.5, 2.0, -1.7999999999999998, 0.5}},
      {"trapezoid", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::trapezoid(a)); }, {2}, {-0.6499999999999999, 0.3499999999999999}},
      {"sort", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::sort(a)); }, {2,3}, {-1.2, 0.3, 0.8, -0.4, 0.1, 1.4}},
      {"argsort", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::argsort(a, 0)); }, {2,3}, {0.0, 0.0, 1.0, 1.0, 1.0, 0.0}},
      {"top_k", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::top_k(a, 2)[0]); }, {2,2}, {0.8, 0.3, 1.4, 0.1}},
      {"in_top_k", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::in_top_k(o::constant(px::Tensor{0.0f, 2.0f}), a, 2)); }, {2}, {1.0, 1.0}},
      {"one_hot", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::one_hot(o::constant(px::Tensor{2.0f, 0.0f, 1.0f}), 4)); }, {3,4}, {0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0}},
      {"multi_hot", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::multi_hot(o::constant(px::Tensor{{2.0f, 0.0f}, {1.0f, 1.0f}}), 4)); }, {2,4}, {1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0}},
      {"take", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::take(a, o::constant(px::Tensor{5.0f, -1.0f, 0.0f}))); }, {3}, {0.1, 0.1, 0.3}},
      {"take_along_axis", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::take_along_axis(a, o::constant(px::Tensor{{2.0f, 0.0f}, {1.0f, 1.0f}}), 1)); }, {2,2}, {0.8, 0.3, -0.4, -0.4}},
      {"matmul", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::matmul(a, o::transpose(b))); }, {2,2}, {-1.38, -2.31, 0.4699999999999999, 0.71}},
      {"dot", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::dot(a, o::transpose(b))); }, {2,2}, {-1.38, -2.31, 0.4699999999999999, 0.71}},
      {"vdot", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::vdot(a, b)); }, {}, {-0.6699999999999999}},
      {"inner", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::inner(a, b)); }, {2,2}, {-1.38, -2.31, 0.4699999999999999, 0.71}},
      {"outer", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::outer(a, b)); }, {6,6}, {0.18, 0.21, -0.27, 0.33, 0.6, -0.09, -0.72, -0.84, 1.08, -1.32, -2.4, 0.36, 0.48, 0.5599999999999999, -0.7200000000000001, 0.8800000000000001, 1.6, -0.24, 0.84, 0.9799999999999999, -1.26, 1.54, 2.8, -0.42, -0.24, -0.27999999999999997, 0.36000000000000004, -0.44000000000000006, -0.8, 0.12, 0.06, 0.06999999999999999, -0.09000000000000001, 0.11000000000000001, 0.2, -0.03}},
      {"tensordot", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::tensordot(a, o::transpose(b), 1)); }, {2,2}, {-1.38, -2.31, 0.4699999999999999, 0.71}},
      {"einsum", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::einsum("ij,kj->ik", a, b)); }, {2,2}, {-1.38, -2.31, 0.47000000000000003, 0.71}},
      {"kron", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::kron(a, b)); }, {4,9}, {0.18, 0.21, -0.27, -0.72, -0.84, 1.08, 0.48, 0.5599999999999999, -0.7200000000000001, 0.33, 0.6, -0.09, -1.32, -2.4, 0.36, 0.8800000000000001, 1.6, -0.24, 0.84, 0.9799999999999999, -1.26, -0.24, -0.27999999999999997, 0.36000000000000004, 0.06, 0.06999999999999999, -0.09000000000000001, 1.54, 2.8, -0.42, -0.44000000000000006, -0.8, 0.12, 0.11000000000000001, 0.2, -0.03}},
      {"cross", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::cross(a, b)); }, {2,3}, {0.5200000000000001, 0.75, 0.9299999999999999, -0.08000000000000002, 0.53, 3.2399999999999998}},
      {"trace", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::trace(o::matmul(a, o::transpose(b)))); }, {}, {-0.6699999999999999}},
      {"diagonal", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::diagonal(a, 1)); }, {2}, {-1.2, 0.1}},
      {"diag", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::diag(o::constant(px::Tensor{1.0f, 2.0f}), 1)); }, {3,3}, {0.0, 1.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0}},
      {"diagflat", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::diagflat(o::slice(a, 0, 0, 1))); }, {3,3}, {0.3, 0.0, 0.0, 0.0, -1.2, 0.0, 0.0, 0.0, 0.8}},
      {"tril", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::tril(a)); }, {2,3}, {0.3, 0.0, 0.0, 1.4, -0.4, 0.0}},
      {"triu", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::triu(a, 1)); }, {2,3}, {0.0, -1.2, 0.8, 0.0, 0.0, 0.1}},
      {"reshape", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::reshape(a, {3, 2})); }, {3,2}, {0.3, -1.2, 0.8, 1.4, -0.4, 0.1}},
      {"transpose", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::transpose(a)); }, {3,2}, {0.3, 1.4, -1.2, -0.4, 0.8, 0.1}},
      {"expand_dims", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::expand_dims(a, 1)); }, {2,1,3}, {0.3, -1.2, 0.8, 1.4, -0.4, 0.1}},
      {"squeeze", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::squeeze(o::expand_dims(a, 0))); }, {2,3}, {0.3, -1.2, 0.8, 1.4, -0.4, 0.1}},
      {"ravel", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::ravel(a)); }, {6}, {0.3, -1.2, 0.8, 1.4, -0.4, 0.1}},
      {"moveaxis", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::moveaxis(o::expand_dims(a, 0), 0, 2)); }, {2,3,1}, {0.3, -1.2, 0.8, 1.4, -0.4, 0.1}},
      {"swapaxes", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::swapaxes(a, 0, 1)); }, {3,2}, {0.3, 1.4, -1.2, -0.4, 0.8, 0.1}},
      {"flip", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::flip(a, {1})); }, {2,3}, {0.8, -1.2, 0.3, 0.1, -0.4, 1.4}},
      {"fliplr", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::fliplr(a)); }, {2,3}, {0.8, -1.2, 0.3, 0.1, -0.4, 1.4}},
      {"flipud", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::flipud(a)); }, {2,3}, {1.4, -0.4, 0.1, 0.3, -1.2, 0.8}},
      {"rot90", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::rot90(a)); }, {3,2}, {0.8, 0.1, -1.2, -0.4, 0.3, 1.4}},
      {"roll", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::roll(a, 1, 1)); }, {2,3}, {0.8, 0.3, -1.2, 0.1, 1.4, -0.4}},
      {"concatenate", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::concatenate({a, b}, 0)); }, {4,3}, {0.3, -1.2, 0.8, 1.4, -0.4, 0.1, 0.6, 0.7, -0.9, 1.1, 2.0, -0.3}},
      {"stack", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::stack({a, b}, 1)); }, {2,2,3}, {0.3, -1.2, 0.8, 0.6, 0.7, -0.9, 1.4, -0.4, 0.1, 1.1, 2.0, -0.3}},
      {"unstack", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::unstack(a, 1)[2]); }, {2}, {0.8, 0.1}},
      {"hstack", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::hstack({a, b})); }, {2,6}, {0.3, -1.2, 0.8, 0.6, 0.7, -0.9, 1.4, -0.4, 0.1, 1.1, 2.0, -0.3}},
      {"vstack", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::vstack({a, b})); }, {4,3}, {0.3, -1.2, 0.8, 1.4, -0.4, 0.1, 0.6, 0.7, -0.9, 1.1, 2.0, -0.3}},
      {"dstack", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::dstack({a, b})); }, {2,3,2}, {0.3, 0.6, -1.2, 0.7, 0.8, -0.9, 1.4, 1.1, -0.4, 2.0, 0.1, -0.3}},
      {"append", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::append(a, b)); }, {12}, {0.3, -1.2, 0.8, 1.4, -0.4, 0.1, 0.6, 0.7, -0.9, 1.1, 2.0, -0.3}},
      {"split", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::split(a, {1, 2}, 1)[1]); }, {2,2}, {-1.2, 0.8, -0.4, 0.1}},
      {"array_split", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::array_split(o::ravel(a), 4)[1]); }, {2}, {0.8, 1.4}},
      {"hsplit", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::hsplit(a, 3)[1]); }, {2,1}, {-1.2, -0.4}},
      {"vsplit", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::vsplit(a, 2)[1]); }, {1,3}, {1.4, -0.4, 0.1}},
      {"dsplit", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::dsplit(o::dstack({a, b}), 2)[1]); }, {2,3,1}, {0.6, 0.7, -0.9, 1.1, 2.0, -0.3}},
      {"tile", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::tile(a, {2, 1})); }, {4,3}, {0.3, -1.2, 0.8, 1.4, -0.4, 0.1, 0.3, -1.2, 0.8, 1.4, -0.4, 0.1}},
      {"repeat", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::repeat(a, 2, 1)); }, {2,6}, {0.3, 0.3, -1.2, -1.2, 0.8, 0.8, 1.4, 1.4, -0.4, -0.4, 0.1, 0.1}},
      {"broadcast_to", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::broadcast_to(o::slice(a, 0, 0, 1), {3, 3})); }, {3,3}, {0.3, -1.2, 0.8, 0.3, -1.2, 0.8, 0.3, -1.2, 0.8}},
      {"slice", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::slice(a, std::vector<px::Dim>{1, 1}, px::Shape{1, 2})); }, {1,2}, {-0.4, 0.1}},
      {"slice_update", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::slice_update(a, {0, 1}, o::ones({1, 2}))); }, {2,3}, {0.3, 1.0, 1.0, 1.4, -0.4, 0.1}},
      {"scatter", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::scatter(o::constant(px::Tensor{{0.0f, 1.0f}, {1.0f, 2.0f}, {0.0f, 1.0f}}), o::constant(px::Tensor{1.0f, 2.0f, 3.0f}), {2, 3})); }, {2,3}, {0.0, 4.0, 0.0, 0.0, 0.0, 2.0}},
      {"scatter_update", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::scatter_update(a, o::constant(px::Tensor{{0.0f, 1.0f}}), o::constant(px::Tensor{7.0f}))); }, {2,3}, {0.3, 7.0, 0.8, 1.4, -0.4, 0.1}},
      {"pad", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::pad(a, {{1, 0}, {0, 2}})); }, {3,5}, {0.0, 0.0, 0.0, 0.0, 0.0, 0.3, -1.2, 0.8, 0.0, 0.0, 1.4, -0.4, 0.1, 0.0, 0.0}},
      {"zeros_like", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::zeros_like(a)); }, {2,3}, {0.0, 0.0, 0.0, 0.0, 0.0, 0.0}},
      {"ones_like", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::ones_like(a)); }, {2,3}, {1.0, 1.0, 1.0, 1.0, 1.0, 1.0}},
      {"full_like", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::full_like(a, 2.5f)); }, {2,3}, {2.5, 2.5, 2.5, 2.5, 2.5, 2.5}},
      {"empty_like", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::empty_like(a)); }, {2,3}, {0.0, 0.0, 0.0, 0.0, 0.0, 0.0}},
      {"zeros", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::zeros({2, 2})); }, {2,2}, {0.0, 0.0, 0.0, 0.0}},
      {"ones", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::ones({2})); }, {2}, {1.0, 1.0}},
      {"full", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::full({2}, 3.0f)); }, {2}, {3.0, 3.0}},
      {"empty", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::empty({1})); }, {1}, {0.0}},
      {"arange", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::arange(1.0f, 2.0f, 0.25f)); }, {4}, {1.0, 1.25, 1.5, 1.75}},
      {"linspace", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::linspace(0.0f, 1.0f, 5)); }, {5}, {0.0, 0.25, 0.5, 0.75, 1.0}},
      {"logspace", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::logspace(0.0f, 2.0f, 3)); }, {3}, {1.0, 10.0, 100.0}},
      {"geomspace", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::geomspace(1.0f, 8.0f, 4)); }, {4}, {1.0, 2.0, 4.0, 8.0}},
      {"eye", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::eye(2, 3, 1)); }, {2,3}, {0.0, 1.0, 0.0, 0.0, 0.0, 1.0}},
      {"identity", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::identity(2)); }, {2,2}, {1.0, 0.0, 0.0, 1.0}},
      {"tri", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::tri(3, 2)); }, {3,2}, {1.0, 0.0, 1.0, 1.0, 1.0, 1.0}},
      {"meshgrid", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::meshgrid({px::Tensor{1.0f, 2.0f, 3.0f}, px::Tensor{4.0f, 5.0f}})[0]); }, {2,3}, {1.0, 2.0, 3.0, 1.0, 2.0, 3.0}},
      {"stop_gradient", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::stop_gradient(a)); }, {2,3}, {0.3, -1.2, 0.8, 1.4, -0.4, 0.1}},
      {"copy", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::copy(a)); }, {2,3}, {0.3, -1.2, 0.8, 1.4, -0.4, 0.1}},
      {"convert_to_tensor", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::convert_to_tensor(px::Tensor{1.0f, 2.0f})); }, {2}, {1.0, 2.0}},
      {"cast", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::cast(o::multiply(a, 3.0f), "int32")); }, {2,3}, {0.0, -3.0, 2.0, 4.0, -1.0, 0.0}},
      {"select", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::select({o::greater(a, o::constant(1.0f)), o::less(a, o::constant(0.0f))}, {a, b}, 9.0f)); }, {2,3}, {9.0, 0.7, 9.0, 1.4, 2.0, 9.0}},
      {"binary_crossentropy", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::binary_crossentropy(o::sigmoid(b), a, true)); }, {2,3}, {0.6606583526007885, 1.0651077939398306, 0.9398602680477809, 0.5700532620852862, 0.8653340835911055, 0.7018409117547368}},
      {"categorical_crossentropy", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::categorical_crossentropy(o::softmax(b), a, true)); }, {2}, {1.719042553368803, 1.644194692867297}},
      {"sparse_categorical_crossentropy", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::sparse_categorical_crossentropy(o::constant(px::Tensor{2.0f, 0.0f}), a, true)); }, {2}, {0.5549569196419906, 0.3631355063687536}},
      {"layer_normalization", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::layer_normalization(a)); }, {2,3}, {0.39196100652297794, -1.3718635228304232, 0.9799025163074452, 1.3608800843461324, -1.0096852238697112, -0.35119486047642123}},
      {"rms_normalization", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::rms_normalization(a)); }, {2,3}, {0.35273756692360225, -1.410950267694409, 0.9406335117962729, 1.661493151406207, -0.4747123289732021, 0.11867808224330052}},
      {"batch_normalization", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::batch_normalization(a, o::constant(px::Tensor{0.1f, 0.2f, 0.3f}), o::constant(px::Tensor{1.0f, 2.0f, 0.5f}))); }, {2,3}, {0.19990007493755463, -0.9897020990568632, 0.7064007333008538, 1.299350487094105, -0.4241580424529415, -0.2825602933203415}},
      {"moments", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::moments(a, {1}).second); }, {2}, {0.7222222222222223, 0.5755555555555555}},
      {"psnr", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::psnr(o::sigmoid(a), o::sigmoid(b), 1.0f)); }, {}, {10.007130673103227}},
      {"dot_product_attention", [](const ST& a, const ST& b, const ST& p, const ST& u, const ST& g) { (void)a; (void)b; (void)p; (void)u; (void)g; return ST(o::dot_product_attention(o::reshape(o::stack({a, b}), {1, 2, 2, 3}), o::reshape(o::stack({b, a}), {1, 2, 2, 3}), o::reshape(o::stack({a, a}), {1, 2, 2, 3}))); }, {1,2,2,3}, {0.3, -1.2, 0.8, 1.4, -0.4, 0.1, 0.3, -1.2, 0.8, 1.4, -0.39999999999999997, 0.09999999999999999}},
  };
}

std::set<std::string> keras_op_names() {
  const char* env = std::getenv("PLEXUS_SHARED");
  std::ifstream in(env ? std::string(env) + "/keras_ops.txt"
                       : std::string(PLEXUS_SOURCE_DIR) + "/../shared/keras_ops.txt");
  std::set<std::string> names;
  std::string line;
  std::getline(in, line);  // the header comment
  while (std::getline(in, line)) {
    if (!line.empty()) names.insert(line);
  }
  return names;
}

struct Built {
  std::vector<ST> inputs;
  ST out;
};
Built build(const OpCase& c) {
  Built b;
  const char* names[] = {"a", "b", "p", "u", "g"};
  for (const char* n : names) b.inputs.push_back(px::graph::placeholder({2, 3}, n));
  b.out = c.build(b.inputs[0], b.inputs[1], b.inputs[2], b.inputs[3], b.inputs[4]);
  return b;
}
std::vector<Tensor> feeds() {
  std::vector<Tensor> f;
  for (const auto& v : input_values()) f.push_back(make({2, 3}, v));
  return f;
}
std::vector<const Tensor*> pointers(const std::vector<Tensor>& ts) {
  std::vector<const Tensor*> p;
  for (const auto& t : ts) p.push_back(&t);
  return p;
}

}  // namespace

TEST(KerasOps, ValuesMatchNumPyAndTheCountOfKerasNames) {
  const std::set<std::string> keras = keras_op_names();
  ASSERT_GT(keras.size(), 300u) << "cannot read ../shared/keras_ops.txt";
  std::set<std::string> have;
  const auto in = feeds();
  for (const OpCase& c : op_cases()) {
    SCOPED_TRACE(c.keras_name);
    EXPECT_TRUE(keras.count(c.keras_name)) << c.keras_name << " is not a keras.ops name";
    have.insert(c.keras_name);
    const Built b = build(c);
    const px::graph::Function fn(b.inputs, {{"y", b.out}});
    const Tensor y = fn(pointers(in)).at(0);
    ASSERT_EQ(px::shape_of(y), c.shape);
    for (std::size_t i = 0; i < y.size(); ++i) {
      EXPECT_NEAR(y.data()[i], c.expected[i], 1e-5 + 1e-4 * std::abs(c.expected[i]))
          << "element " << i;
    }
  }
  // Names that return no tensor, or whose kernels test_ops.cpp checks.
  const ST x = px::graph::placeholder({-1, 3}, "x");
  EXPECT_EQ(o::shape(x), (Shape{-1, 3}));
  EXPECT_EQ(o::ndim(x), 2);
  EXPECT_EQ(o::size(x), -1);
  EXPECT_EQ(o::size(o::zeros({2, 5})), 10);
  EXPECT_EQ(o::dtype(x), "float32");
  EXPECT_TRUE(o::is_tensor(x));
  for (const char* name : {"shape", "ndim", "size", "dtype", "is_tensor", "conv", "conv_transpose",
                           "max_pool", "average_pool", "depthwise_conv", "separable_conv"}) {
    EXPECT_TRUE(keras.count(name)) << name;
    have.insert(name);
  }
  std::cout << "[ keras.ops ] plexus has " << have.size() << " of the " << keras.size()
            << " names of keras.ops\n";
  RecordProperty("keras_ops_count", int(have.size()));
  EXPECT_GE(have.size(), 150u);
}

// d sum(op * cot) / d input and the second derivatives of S = sum_k <grad_k, w_k>, both
// through ops::grad, against central differences (double sums of float32 values, h = 1e-3;
// every input is >= 0.03 away from the ops' kinks and jumps).
TEST(KerasOps, FirstAndSecondDerivativesMatchFiniteDifferences) {
  std::mt19937_64 rng(77);
  std::normal_distribution<float> normal;
  const float h = 1e-3f;
  std::size_t checked = 0;
  for (const OpCase& c : op_cases()) {
    // a / round(b) divides by zero; where() then picks a constant, but the unpicked
    // branch's gradient is 0 * inf = NaN (as in TensorFlow and JAX).
    if (c.keras_name == "nan_to_num") continue;
    // stop_gradient's derivative is 0 by definition, not the difference quotient's 1.
    if (c.keras_name == "stop_gradient") continue;
    SCOPED_TRACE(c.keras_name);
    const Built b = build(c);
    Tensor cot;
    px::resize_to(cot, b.out.shape());
    for (float& v : cot) v = normal(rng);
    const ST loss = o::sum(o::multiply(b.out, o::constant(cot)));
    const std::vector<ST> g1 = o::grad(loss, b.inputs);
    ST s;
    for (const ST& g : g1) {
      Tensor wk = Tensor::from_shape({2, 3});
      for (float& v : wk) v = normal(rng);
      const ST term = o::sum(o::multiply(g, o::constant(wk)));
      s = s.defined() ? o::add(s, term) : term;
    }
    const std::vector<ST> g2 = o::grad(s, b.inputs);
    std::vector<px::graph::NamedOutput> outs = {{"loss", loss}, {"s", s}};
    for (std::size_t k = 0; k < g1.size(); ++k) {
      outs.push_back({"g" + std::to_string(k), g1[k]});
      outs.push_back({"h" + std::to_string(k), g2[k]});
    }
    const px::graph::Function fn(b.inputs, outs);
    std::vector<Tensor> in = feeds();
    const std::vector<Tensor> at = fn(pointers(in));
    for (std::size_t k = 0; k < in.size(); ++k) {
      for (std::size_t j = 0; j < in[k].size(); ++j) {
        const float x = in[k].data()[j];
        in[k].data()[j] = x + h;
        const auto up = fn(pointers(in));
        in[k].data()[j] = x - h;
        const auto down = fn(pointers(in));
        in[k].data()[j] = x;
        const double step = double(x + h) - double(x - h);
        const double d1 = (double(up[0].data()[0]) - down[0].data()[0]) / step;
        const double d2 = (double(up[1].data()[0]) - down[1].data()[0]) / step;
        const double a1 = at[2 + 2 * k].data()[j], a2 = at[3 + 2 * k].data()[j];
        EXPECT_NEAR(a1, d1, 2e-2 * std::max(1.0, std::abs(d1)))
            << "d/d input " << k << " element " << j;
        EXPECT_NEAR(a2, d2, 2e-2 * std::max(1.0, std::abs(d2)))
            << "d2/d input " << k << " element " << j;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 1000u);
}

TEST(Grad, HigherDerivativesOfSin) {
  const ST x = px::graph::placeholder({5}, "x");
  const ST y = o::sin(x);
  const ST d1 = o::grad(y, {x})[0];
  const ST d2 = o::grad(d1, {x})[0];
  const ST d3 = o::grad(d2, {x})[0];
  const px::graph::Function fn({x}, {{"d1", d1}, {"d2", d2}, {"d3", d3}});
  const Tensor xv = {-1.0f, -0.3f, 0.0f, 0.4f, 2.0f};
  const auto out = fn({&xv});
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_NEAR(out[0](i), std::cos(xv(i)), 1e-6);
    EXPECT_NEAR(out[1](i), -std::sin(xv(i)), 1e-6);
    EXPECT_NEAR(out[2](i), -std::cos(xv(i)), 1e-6);
  }
}

// A network's input derivatives (the physics-informed setting): u(x) = MLP(x) with tanh,
// du/dx and d2u/dx2 per sample (the gradient of sum(u): the samples are independent),
// against central differences of u.
TEST(Grad, SecondDerivativeOfANetworkInItsInput) {
  px::utils::set_random_seed(3);
  auto in = px::Input({1});
  auto h = px::layers::Dense(16, px::kw::activation = "tanh")(in);
  h = px::layers::Dense(16, px::kw::activation = "tanh")(h);
  auto u = px::layers::Dense(1)(h);
  px::Model model(in, u);
  const ST x = px::graph::placeholder({-1, 1}, "x");
  const ST ux = model(x);
  const ST du = o::grad(ux, {x})[0];
  const ST d2u = o::grad(du, {x})[0];
  const px::graph::Function fn({x}, {{"u", ux}, {"du", du}, {"d2u", d2u}});
  Tensor xs = Tensor::from_shape({3, 1});
  xs(0, 0) = -0.7f;
  xs(1, 0) = 0.1f;
  xs(2, 0) = 0.9f;
  const auto out = fn({&xs});
  const double hh = 1e-2;
  for (std::size_t i = 0; i < 3; ++i) {
    auto u_at = [&](double v) {
      Tensor t = Tensor::from_shape({1, 1});
      t(0, 0) = float(v);
      return double(fn({&t})[0](0, 0));
    };
    const double x0 = xs(i, 0);
    const double num1 = (u_at(x0 + hh) - u_at(x0 - hh)) / (2 * hh);
    const double num2 = (u_at(x0 + hh) - 2 * u_at(x0) + u_at(x0 - hh)) / (hh * hh);
    EXPECT_NEAR(out[1](i, 0), num1, 2e-3);
    EXPECT_NEAR(out[2](i, 0), num2, 2e-2);
  }
}

TEST(Grad, VariablesMatchTheExecutorsGradients) {
  px::utils::set_random_seed(5);
  auto in = px::Input({3});
  auto y = px::layers::Dense(2, px::kw::activation = "sigmoid")(in);
  px::Model model(in, y);
  const ST loss = o::mean(o::square(y));
  const auto weights = model.trainable_weights();
  const auto grads = o::grad(loss, weights);
  ASSERT_EQ(grads.size(), weights.size());
  std::vector<px::graph::NamedOutput> outs = {{"loss", loss}};
  for (std::size_t i = 0; i < grads.size(); ++i)
    outs.push_back({"g" + std::to_string(i), grads[i]});
  const px::graph::Function fn({in}, outs);
  const Tensor xv = {{0.5f, -1.0f, 2.0f}, {0.1f, 0.2f, -0.3f}};
  const auto got = fn({&xv});
  // The executor's own reverse pass on the same loss.
  std::vector<std::shared_ptr<px::VariableData>> vars;
  for (const auto& v : weights) vars.push_back(v.data());
  const px::graph::Function lf({in}, {{"loss", loss}});
  auto exec = lf.make_executor({.wrt_variables = vars});
  const Tensor* feed = &xv;
  exec->forward({&feed, 1}, {});
  const Tensor one = {1.0f};
  const Tensor* seed = &one;
  exec->backward({&seed, 1}, {});
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const Tensor& want = *exec->variable_grad(i);
    ASSERT_EQ(px::shape_of(got[1 + i]), px::shape_of(want));
    for (std::size_t j = 0; j < want.size(); ++j) {
      EXPECT_NEAR(got[1 + i].data()[j], want.data()[j], 1e-6);
    }
  }
}

TEST(Grad, UnconnectedSourceGetsZerosAndErrorsNameTheProblem) {
  const ST x = px::graph::placeholder({2}, "x");
  const ST z = px::graph::placeholder({3}, "z");
  const auto g = o::grad(o::sum(o::square(x)), {x, z});
  const px::graph::Function fn({x, z}, {{"gx", g[0]}, {"gz", g[1]}});
  const Tensor xv = {1.0f, -2.0f}, zv = {1.0f, 2.0f, 3.0f};
  const auto out = fn({&xv, &zv});
  EXPECT_FLOAT_EQ(out[0](1), -4.0f);
  for (float v : out[1]) EXPECT_EQ(v, 0.0f);
  EXPECT_THROW(o::grad(ST(), {x}), px::Error);

  // A convolution has a first-order VJP only: its gradient is computed, and
  // differentiating that gradient again names the kernel.
  const ST img = px::graph::placeholder({1, 4, 4, 1}, "img");
  const ST w = o::ones({2, 2, 1, 1});
  const ST first = o::grad(o::sum(o::square(o::conv(img, w))), {img})[0];
  const px::graph::Function f1({img}, {{"g", first}});
  const Tensor iv = xt::ones<float>({1, 4, 4, 1});
  EXPECT_NEAR(f1({&iv})[0](0, 1, 1, 0), 4 * 2 * 4.0f, 1e-5);  // 4 windows, each 2 * 4
  const ST second = o::grad(o::sum(first), {img})[0];
  const px::graph::Function f2({img}, {{"h", second}});
  try {
    f2({&iv});
    FAIL() << "differentiating conv's first-order gradient should throw";
  } catch (const px::Error& e) {
    EXPECT_NE(std::string(e.what()).find("conv"), std::string::npos) << e.what();
  }
}

TEST(ScalarArithmetic, OperatorsOnSymbolicTensors) {
  const ST x = px::graph::placeholder({3}, "x");
  const ST y = 0.5f * x + (1.0f - x) - x / 2 + 2.0f / x + (x * 3.0) - (x - 1.0f) + (4.0f + x);
  const px::graph::Function fn({x}, {{"y", y}});
  const Tensor xv = {1.0f, 2.0f, -4.0f};
  const auto out = fn({&xv});
  for (std::size_t i = 0; i < 3; ++i) {
    const double v = xv(i);
    EXPECT_NEAR(out[0](i), 0.5 * v + (1 - v) - v / 2 + 2 / v + 3 * v - (v - 1) + (4 + v), 1e-5);
  }
}
