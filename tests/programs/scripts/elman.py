"""Elman recurrent network over word context windows for slot filling, trained sentence by
sentence with scan, embedding normalisation and learning-rate decay (deeplearning.net rnnslu.py)."""

from collections import OrderedDict

import numpy

import theano
from theano import tensor as T

from synthetic import save_results, word_sentences


def contextwin(l, win):
    assert (win % 2) == 1
    assert win >= 1
    l = list(l)
    lpadded = win // 2 * [-1] + l + win // 2 * [-1]
    out = [lpadded[i:(i + win)] for i in range(len(l))]
    assert len(out) == len(l)
    return out


class RNNSLU(object):
    def __init__(self, nh, nc, ne, de, cs):
        self.emb = theano.shared(name='embeddings', value=0.2 * numpy.random.uniform(
            -1.0, 1.0, (ne + 1, de)).astype(theano.config.floatX))
        self.wx = theano.shared(name='wx', value=0.2 * numpy.random.uniform(
            -1.0, 1.0, (de * cs, nh)).astype(theano.config.floatX))
        self.wh = theano.shared(name='wh', value=0.2 * numpy.random.uniform(
            -1.0, 1.0, (nh, nh)).astype(theano.config.floatX))
        self.w = theano.shared(name='w', value=0.2 * numpy.random.uniform(
            -1.0, 1.0, (nh, nc)).astype(theano.config.floatX))
        self.bh = theano.shared(name='bh', value=numpy.zeros(nh, dtype=theano.config.floatX))
        self.b = theano.shared(name='b', value=numpy.zeros(nc, dtype=theano.config.floatX))
        self.h0 = theano.shared(name='h0', value=numpy.zeros(nh, dtype=theano.config.floatX))
        self.params = [self.emb, self.wx, self.wh, self.w, self.bh, self.b, self.h0]

        idxs = T.imatrix()
        x = self.emb[idxs].reshape((idxs.shape[0], de * cs))
        y_sentence = T.ivector('y_sentence')

        def recurrence(x_t, h_tm1):
            h_t = T.nnet.sigmoid(T.dot(x_t, self.wx) + T.dot(h_tm1, self.wh) + self.bh)
            s_t = T.nnet.softmax(T.dot(h_t, self.w) + self.b)
            return [h_t, s_t]

        [h, s], _ = theano.scan(fn=recurrence, sequences=x, outputs_info=[self.h0, None],
                                n_steps=x.shape[0])
        p_y_given_x_sentence = s[:, 0, :]
        y_pred = T.argmax(p_y_given_x_sentence, axis=1)

        lr = T.scalar('lr')
        sentence_nll = -T.mean(T.log(p_y_given_x_sentence)[T.arange(x.shape[0]), y_sentence])
        sentence_gradients = T.grad(sentence_nll, self.params)
        sentence_updates = OrderedDict((p, p - lr * g)
                                       for p, g in zip(self.params, sentence_gradients))

        self.classify = theano.function(inputs=[idxs], outputs=y_pred)
        self.sentence_train = theano.function(inputs=[idxs, y_sentence, lr],
                                              outputs=sentence_nll, updates=sentence_updates)
        self.normalize = theano.function(
            inputs=[], updates={self.emb: self.emb / T.sqrt((self.emb ** 2).sum(axis=1))
                                .dimshuffle(0, 'x')})

    def train(self, x, y, window_size, learning_rate):
        cwords = contextwin(x, window_size)
        words = list(map(lambda x: numpy.asarray(x).astype('int32'), cwords))
        labels = y
        cost = self.sentence_train(words, labels, learning_rate)
        self.normalize()
        return cost


def main(param=None):
    if not param:
        param = {'lr': 0.5, 'decay': True, 'win': 3, 'nhidden': 6, 'seed': 345, 'emb_dimension': 4,
                 'nepochs': 5}
    sents, labels = word_sentences(seed=0, n_sentences=12, vocab=15, n_labels=4,
                                   min_len=4, max_len=6)
    labels = [y.astype('int32') for y in labels]
    train_lex, train_y = sents[:8], labels[:8]
    valid_lex, valid_y = sents[8:], labels[8:]
    vocsize, nclasses, nsentences = 15, 4, len(train_lex)

    numpy.random.seed(param['seed'])
    rnn = RNNSLU(nh=param['nhidden'], nc=nclasses, ne=vocsize, de=param['emb_dimension'],
                 cs=param['win'])
    best_error = numpy.inf
    param['clr'] = param['lr']
    history = []
    for e in range(param['nepochs']):
        order = numpy.random.RandomState(param['seed'] + e).permutation(nsentences)
        costs = []
        for i in order:
            costs.append(float(rnn.train(train_lex[i], train_y[i], param['win'], param['clr'])))
        predictions_valid = [
            rnn.classify(numpy.asarray(contextwin(x, param['win'])).astype('int32'))
            for x in valid_lex]
        errors = float(numpy.mean(numpy.concatenate(
            [p != numpy.asarray(y) for p, y in zip(predictions_valid, valid_y)])))
        history.append({'epoch': e, 'costs': costs, 'valid_error': errors, 'clr': param['clr']})
        if errors < best_error:
            best_error = errors
            param['be'] = e
        if param['decay'] and abs(param['be'] - e) >= 2:
            param['clr'] *= 0.5
    save_results({'epochs': history, 'best_error': best_error,
                  'params': [p.get_value().tolist() for p in rnn.params]})


if __name__ == '__main__':
    main()
